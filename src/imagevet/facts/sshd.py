"""Effective sshd configuration, computed the way OpenSSH's sshd computes it (and ``sshd -T`` prints it).

Rules reproduced from OpenSSH (servconf.c), verified against Debian's ``sshd -T`` in the tests:

* keywords are case-insensitive; a keyword ends at white space or ``=``; arguments may be quoted and an
  unquoted ``#`` starts a comment;
* for a single-valued keyword the *first* value obtained wins; list keywords (Port, HostKey, AcceptEnv,
  AllowUsers ...) accumulate;
* ``Include`` takes glob patterns, expanded in lexical order; relative paths are relative to ``/etc/ssh``;
  includes nest up to 16 levels (deeper is fatal); a ``Match`` inside an included file ends with that file;
* ``Match`` blocks are kept apart from the global values. With no connection to test against, sshd treats
  ``Match all`` as matching and every other criterion as not matching, so ``Match all`` lines count as
  global, as in ``sshd -T``;
* keywords that are not set take OpenSSH's compiled-in defaults (PasswordAuthentication yes,
  PermitRootLogin prohibit-password, KbdInteractiveAuthentication yes, UsePAM no ...).

Anything sshd itself would refuse (unknown keyword, bad value, missing argument, include loop) is recorded
in ``fatal``: such a configuration does not start, and checks report ``error`` instead of guessing.
Parsing is bounded (file parses, lines, characters, glob entries): a configuration beyond the budget is
``undecided`` and the checks report ``error`` too; sshd itself has no such bound beyond depth 16.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from imagevet.facts.sshd_glob import MAX_GLOB_ENTRIES, Globber, GlobBudgetExceeded, bounded_glob
from imagevet.facts.sshd_grammar import match_problem, normalize, split_args, split_keyword
from imagevet.facts.sshd_keywords import (
    ACCUMULATING,
    ALIASES,
    EMPTY_AFTER_COMMENT,
    MATCH_ALLOWED,
    MODELED,
    OTHER_KEYWORDS,
    REST_OF_LINE,
)
from imagevet.model import Unknown
from imagevet.target.base import Target

__all__ = [
    "MAX_FILE_PARSES",
    "MAX_GLOB_ENTRIES",
    "MAX_LINES",
    "MODELED",
    "GlobBudgetExceeded",
    "MatchBlock",
    "SshdConfig",
    "SshdSetting",
    "bounded_glob",
    "gather_sshd",
    "parse_sshd_config",
    "sshd_installed",
]

SSHD_CONFIG = "/etc/ssh/sshd_config"
SSHDIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16
SSHD_BINARIES = ("/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd")


@dataclass(frozen=True)
class SshdSetting:
    """One keyword's value and where it came from (``path is None`` means OpenSSH's default)."""

    keyword: str
    value: str
    path: str | None = None
    line: int | None = None

    @property
    def is_default(self) -> bool:
        return self.path is None

    def where(self) -> str:
        return "OpenSSH default" if self.path is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class MatchBlock:
    """A conditional block: its criteria, where it starts, and the settings it makes for matching sessions."""

    criteria: str
    path: str
    line: int
    settings: tuple[SshdSetting, ...]


@dataclass
class SshdConfig:
    """The effective global configuration, the Match blocks, and what sshd would reject."""

    settings: dict[str, list[SshdSetting]] = field(default_factory=dict)
    match_all: dict[str, SshdSetting] = field(default_factory=dict)
    match_blocks: list[MatchBlock] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    # Why the configuration could not be judged within the work budget (sshd itself may accept it).
    undecided: str | None = None

    def get(self, keyword: str) -> SshdSetting:
        """The effective value for a connection that matches no conditional block (``sshd -T``).

        sshd parses twice: first every active line, the first value winning; then, per connection, the
        Match blocks that apply (``Match all`` always does), whose first values override the global ones
        for keywords allowed in a Match.
        """
        key = keyword.lower()
        if key in MATCH_ALLOWED and key in self.match_all:
            return self.match_all[key]
        values = self.settings.get(key)
        if values:
            return values[0]
        kind_default = MODELED.get(key)
        return SshdSetting(key, kind_default[1] if kind_default else "")

    def match_overrides(self, keyword: str) -> list[tuple[MatchBlock, SshdSetting]]:
        """Match blocks that set ``keyword`` for the sessions they match."""
        key = keyword.lower()
        found = []
        for block in self.match_blocks:
            for setting in block.settings:
                if setting.keyword == key:
                    found.append((block, setting))
                    break
        return found


Reader = Callable[[str], "str | Unknown"]

# sshd itself only limits the include depth (16); its include cache makes it re-parse an included file
# every time it is included, so a 16-deep chain of wide globs costs sshd itself exponential time. We stop
# where sshd stops (depth, and every fatal error), and also where judging would cost more than about a
# second: then the configuration cannot be decided, which the SSH checks report as an error.
MAX_FILE_PARSES = 1024  # files parsed, counting every repeated inclusion of the same file
MAX_LINES = 40_000  # lines parsed in total
MAX_CHARS = 1024 * 1024  # characters parsed in total (one huge line costs as much as many)


class _Stop(Exception):
    """sshd would stop here (a fatal error), or judging would exceed the budget."""


class _Undecided(Exception):
    """Judging this configuration would cost more than the budget allows."""


def _safe(text: str) -> str:
    """A path or pattern from the image, safe for a one-line message (no control characters)."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned if len(cleaned) <= 200 else cleaned[:200] + "..."


class _Parser:
    """Walks the main file and its includes, keeping OpenSSH's active/inactive Match state."""

    def __init__(self, read: Reader, glob: Globber) -> None:
        self.read = read
        self.glob = glob
        self.config = SshdConfig()
        # Match blocks being collected: (criteria, path, line, settings); frozen when parsing ends.
        self.blocks: list[tuple[str, str, int, list[SshdSetting]]] = []
        self.current: list[SshdSetting] | None = None  # settings of the conditional block we are in
        self.in_match_all = False  # inside a "Match all" block (applies to every connection)
        # sshd's include cache: a pattern is expanded once and each file read once.
        self.globbed: dict[str, list[str]] = {}
        self.texts: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.parses = 0
        self.lines = 0
        self.chars = 0

    def fatal(self, message: str) -> None:
        """sshd exits on this (fatal(), or "terminating, N bad configuration options" after the file)."""
        self.config.fatal.append(message)
        raise _Stop

    def _lines_of(self, path: str) -> list[str]:
        cached = self.texts.get(path)
        if cached is None:
            text = self.read(path)
            if isinstance(text, Unknown):
                self.fatal(f"cannot read {_safe(path)}: {_safe(text.reason)}")
                raise AssertionError  # not reached: fatal raises
            cached = self.texts[path] = text.split("\n")  # OpenSSH splits at \n only
            self.sizes[path] = len(text)
            self.config.files.append(path)
        return cached

    def parse_file(self, path: str, depth: int, active: bool, never_match: bool) -> None:
        """Parse one file. An included file starts in its includer's state, which is restored after it."""
        if depth > MAX_INCLUDE_DEPTH:
            self.fatal(f"{_safe(path)}: too many recursive configuration includes")
        self.parses += 1
        if self.parses > MAX_FILE_PARSES:
            raise _Undecided(f"Include expands to more than {MAX_FILE_PARSES} file parses")
        lines = self._lines_of(path)
        self.lines += len(lines)
        self.chars += self.sizes[path]
        if self.lines > MAX_LINES or self.chars > MAX_CHARS:
            raise _Undecided(
                f"the configuration and its includes exceed {MAX_LINES} lines or {MAX_CHARS} characters"
            )
        outer_block, outer_all = self.current, self.in_match_all
        shown_path = _safe(path)
        for number, raw in enumerate(lines, start=1):
            split = split_keyword(raw)
            if split is None:
                continue
            word, rest = split
            keyword = ALIASES.get(word.lower(), word.lower())
            where = f"{shown_path}:{number}"
            args = split_args(rest)
            if args is None:
                self.fatal(f"{where}: invalid quotes")
                continue
            if not args and rest.strip() and keyword in REST_OF_LINE:
                args = [rest.strip()]  # sshd takes these lines' rest as written, "#" and all
            if not args:
                if rest.strip() and keyword in EMPTY_AFTER_COMMENT:
                    if self.current is not None and keyword not in MATCH_ALLOWED:  # sshd asks this first
                        self.fatal(f"{where}: directive {keyword} is not allowed within a Match block")
                    continue  # "AcceptEnv #c": a list of no names, which sshd accepts
                self.fatal(f"{where}: a keyword without an argument")
                continue
            if keyword == "match":
                problem = match_problem(args)
                if problem:
                    self.fatal(f"{where}: {problem}")
                active = self._start_match(args, rest, path, number, never_match, outer_block)
                continue
            if keyword == "include":
                self._include(args, depth, active, never_match, where)
                continue
            if keyword not in MODELED and keyword not in ACCUMULATING and keyword not in OTHER_KEYWORDS:
                self.fatal(f"{where}: bad configuration option (an unknown keyword)")
                continue
            if self.current is not None and keyword not in MATCH_ALLOWED:
                self.fatal(f"{where}: directive {keyword} is not allowed within a Match block")
                continue
            value = normalize(keyword, args)
            if value is None:
                self.fatal(f"{where}: unsupported value for {keyword}")
                continue
            self._assign(SshdSetting(keyword, value, path, number), active)
        self.current, self.in_match_all = outer_block, outer_all

    def _include(self, patterns: list[str], depth: int, active: bool, never_match: bool, where: str) -> None:
        for pattern in patterns:
            if pattern == "":
                self.fatal(f"{where}: Include with an empty argument")
            # servconf.c: a pattern not starting with / or ~ is relative to /etc/ssh; "~" is not expanded.
            full = pattern if pattern.startswith(("/", "~")) else f"{SSHDIR}/{pattern}"
            if full.startswith("~"):
                full = "/" + full  # sshd's glob(3) resolves it against its working directory, /
            matches = self.globbed.get(full)
            if matches is None:
                matches = self.globbed[full] = self.glob(full)
            for included in matches:
                # Inside a Match that does not apply, nothing in the included file can match either.
                self.parse_file(included, depth + 1, active, never_match or not active)

    def _assign(self, setting: SshdSetting, active: bool) -> None:
        if active:
            existing = self.config.settings.setdefault(setting.keyword, [])
            if setting.keyword in ACCUMULATING or not existing:
                existing.append(setting)
            if self.in_match_all:
                self.config.match_all.setdefault(setting.keyword, setting)
        elif self.current is not None and not any(s.keyword == setting.keyword for s in self.current):
            self.current.append(setting)

    def _start_match(
        self,
        args: list[str],
        criteria: str,
        path: str,
        line: int,
        never_match: bool,
        outer_block: list[SshdSetting] | None,
    ) -> bool:
        """Begin a Match block; returns whether its lines are active for the global configuration."""
        is_all = [a.lower() for a in args] == ["all"]
        if is_all and not never_match:
            self.current, self.in_match_all = None, True
            return True
        self.in_match_all = False
        label = criteria.strip()
        if never_match and outer_block is not None:
            outer = next((b[0] for b in self.blocks if b[3] is outer_block), "")
            label = f"{outer} and {label}" if outer else label
        self.current = []
        self.blocks.append((label, path, line, self.current))
        return False


def parse_sshd_config(read: Reader, glob: Globber, main: str = SSHD_CONFIG) -> SshdConfig:
    """Compute the effective configuration from ``main`` and everything it includes.

    Parsing stops at the first error sshd would stop at (``config.fatal``), or when the work exceeds
    the budget above (also recorded in ``fatal``: such a configuration cannot be judged)."""
    parser = _Parser(read, glob)
    try:
        parser.parse_file(main, 0, True, False)
    except _Stop:
        pass
    except _Undecided as exc:
        parser.config.undecided = f"{exc} (more than imagevet judges in about a second)"
    except GlobBudgetExceeded:
        parser.config.undecided = (
            f"Include globs examine more than {MAX_GLOB_ENTRIES} directory entries "
            "(more than imagevet judges in about a second)"
        )
    config = parser.config
    config.match_blocks = [
        MatchBlock(criteria, path, line, tuple(settings)) for criteria, path, line, settings in parser.blocks
    ]
    return config


def host_key_path(value: str, home_of: Callable[[str], str | None]) -> str:
    """Where sshd looks for a HostKey: ``~/`` is the home of sshd's own user (getpwuid(0): the first
    account with uid 0, whatever its name; ``home_of("")``), ``~user/`` that user's home, an empty home
    is /, and a relative path is taken from sshd's working directory, / under systemd (``sshd -T`` shows
    ``hostkey //hostkey`` for ``HostKey hostkey``). An unknown user is left as written: sshd refuses to
    start on it, so nothing is served."""
    if value.startswith("~"):
        user, _, rest = value[1:].partition("/")
        home = home_of(user)
        if home is None and user == "":
            home = "/root"  # the account database could not be read: root's usual home
        return value if home is None else f"{home.rstrip('/') or ''}/{rest}"
    return value if value.startswith("/") else f"/{value}"


def sshd_installed(target: Target) -> bool:
    return any(target.exists(path) for path in SSHD_BINARIES)


def gather_sshd(target: Target) -> SshdConfig | Unknown | None:
    """The effective sshd configuration; None when no OpenSSH server is installed in the image."""
    installed = sshd_installed(target)
    if not target.exists(SSHD_CONFIG):
        if not installed:
            return None
        return Unknown(f"sshd is installed but {SSHD_CONFIG} is missing (sshd would refuse to start)")
    first = target.read_text(SSHD_CONFIG)
    if isinstance(first, Unknown):
        return first

    def read(path: str) -> str | Unknown:
        """The main file as already read (one open, and the text judged is the text checked); the rest
        from the image."""
        return first if path == SSHD_CONFIG else target.read_text(path)

    return parse_sshd_config(read, bounded_glob(target))
