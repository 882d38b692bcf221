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

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from imagevet.model import Unknown
from imagevet.target.base import Target

SSHD_CONFIG = "/etc/ssh/sshd_config"
SSHDIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16
SSHD_BINARIES = ("/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd")

FLAG = "flag"
TIME = "time"
INT = "int"
LOGLEVEL = "loglevel"
ROOTLOGIN = "rootlogin"
WORDS = "words"
ALGORITHMS = "algorithms"  # comma lists with OpenSSH's +append, -remove (patterns) and ^prepend forms

# Keywords whose effective value we model: type and OpenSSH's default (fill_default_server_options).
MODELED: dict[str, tuple[str, str]] = {
    "passwordauthentication": (FLAG, "yes"),
    "permitrootlogin": (ROOTLOGIN, "prohibit-password"),
    "permitemptypasswords": (FLAG, "no"),
    "kbdinteractiveauthentication": (FLAG, "yes"),
    "usepam": (FLAG, "no"),
    "pubkeyauthentication": (FLAG, "yes"),
    "hostbasedauthentication": (FLAG, "no"),
    "ignorerhosts": (FLAG, "yes"),
    "x11forwarding": (FLAG, "no"),
    "allowagentforwarding": (FLAG, "yes"),
    "gssapiauthentication": (FLAG, "no"),
    "permituserenvironment": (WORDS, "no"),
    "maxauthtries": (INT, "6"),
    "maxsessions": (INT, "10"),
    "logingracetime": (TIME, "120"),
    "clientaliveinterval": (TIME, "0"),
    "clientalivecountmax": (INT, "3"),
    "loglevel": (LOGLEVEL, "INFO"),
    "authenticationmethods": (WORDS, "any"),
    "banner": (WORDS, "none"),
    # Debian 12's OpenSSH 9.2p1 defaults, as its sshd -T prints them (checked by the oracle tests).
    "ciphers": (
        ALGORITHMS,
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    ),
    "macs": (
        ALGORITHMS,
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    ),
    "kexalgorithms": (
        ALGORITHMS,
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
        "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    ),
}

# What Debian 12's OpenSSH 9.2p1 supports (``ssh -Q cipher|mac|kex``): sshd refuses other names ("Bad SSH2
# cipher spec") unless the list removes (``-``) patterns.
SUPPORTED = {
    "ciphers": frozenset(
        "3des-cbc aes128-cbc aes192-cbc aes256-cbc aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com "
        "aes256-gcm@openssh.com chacha20-poly1305@openssh.com".split()
    ),
    "macs": frozenset(
        "hmac-sha1 hmac-sha1-96 hmac-sha2-256 hmac-sha2-512 hmac-md5 hmac-md5-96 umac-64@openssh.com "
        "umac-128@openssh.com hmac-sha1-etm@openssh.com hmac-sha1-96-etm@openssh.com "
        "hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com hmac-md5-etm@openssh.com "
        "hmac-md5-96-etm@openssh.com "
        "umac-64-etm@openssh.com umac-128-etm@openssh.com".split()
    ),
    "kexalgorithms": frozenset(
        "diffie-hellman-group1-sha1 diffie-hellman-group14-sha1 diffie-hellman-group14-sha256 "
        "diffie-hellman-group16-sha512 diffie-hellman-group18-sha512 diffie-hellman-group-exchange-sha1 "
        "diffie-hellman-group-exchange-sha256 ecdh-sha2-nistp256 ecdh-sha2-nistp384 ecdh-sha2-nistp521 "
        "curve25519-sha256 curve25519-sha256@libssh.org sntrup761x25519-sha512 "
        "sntrup761x25519-sha512@openssh.com".split()
    ),
}

ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
    "dsaauthentication": "pubkeyauthentication",
}

# Keywords that add to a list instead of being set once.
ACCUMULATING = frozenset(
    {
        "port",
        "listenaddress",
        "hostkey",
        "hostcertificate",
        "acceptenv",
        "subsystem",
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "logverbose",
    }
)

# Keywords allowed inside a Match block (sshd_config(5), "Match"); the values a matching block sets
# override the global ones for that connection. Others inside a Match (but "Match all") are fatal.
MATCH_ALLOWED = frozenset(
    """
    acceptenv allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers
    authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile
    authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner
    casignaturealgorithms channeltimeout chrootdirectory clientalivecountmax clientaliveinterval denygroups
    denyusers disableforwarding exposeauthinfo forcecommand gatewayports gssapiauthentication
    hostbasedacceptedalgorithms hostbasedauthentication hostbasedusesnamefrompacketonly ignorerhosts include
    ipqos kbdinteractiveauthentication kerberosauthentication loglevel maxauthtries maxsessions
    passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty permittunnel
    permituserrc pubkeyacceptedalgorithms pubkeyauthentication pubkeyauthoptions rekeylimit revokedkeys
    rdomain setenv streamlocalbindmask streamlocalbindunlink trustedusercakeys unusedconnectiontimeout
    x11displayoffset x11forwarding x11uselocalhost
    """.split()
)

# Every other keyword sshd 9.x accepts, so a typo can be reported as the fatal error sshd would raise.
OTHER_KEYWORDS = frozenset(
    [
        "addressfamily",
        "requiredrsasize",
        "streamlocalbindmask",
        "unusedconnectiontimeout",
        "ignoreuserknownhosts",
        "hostbasedusesnamefrompacketonly",
        "kerberosauthentication",
        "kerberosorlocalpasswd",
        "kerberosticketcleanup",
        "kerberosgetafstoken",
        "gssapicleanupcredentials",
        "gssapikeyexchange",
        "gssapistrictacceptorcheck",
        "gssapistorecredentialsonrekey",
        "gssapikexalgorithms",
        "printmotd",
        "printlastlog",
        "x11displayoffset",
        "x11uselocalhost",
        "permittty",
        "permituserrc",
        "strictmodes",
        "tcpkeepalive",
        "compression",
        "gatewayports",
        "usedns",
        "allowtcpforwarding",
        "disableforwarding",
        "allowstreamlocalforwarding",
        "streamlocalbindunlink",
        "fingerprinthash",
        "exposeauthinfo",
        "pidfile",
        "modulifile",
        "xauthlocation",
        "ciphers",
        "macs",
        "forcecommand",
        "chrootdirectory",
        "trustedusercakeys",
        "revokedkeys",
        "securitykeyprovider",
        "authorizedprincipalsfile",
        "versionaddendum",
        "authorizedkeyscommand",
        "authorizedkeyscommanduser",
        "authorizedprincipalscommand",
        "authorizedprincipalscommanduser",
        "hostkeyagent",
        "kexalgorithms",
        "casignaturealgorithms",
        "hostbasedacceptedalgorithms",
        "hostkeyalgorithms",
        "pubkeyacceptedalgorithms",
        "syslogfacility",
        "authorizedkeysfile",
        "authorizedkeysfile2",
        "maxstartups",
        "persourcemaxstartups",
        "persourcenetblocksize",
        "permittunnel",
        "ipqos",
        "rekeylimit",
        "permitopen",
        "permitlisten",
        "pubkeyauthoptions",
        "setenv",
        "include",
        "match",
        "keepalive",
        "protocol",
        "useprivilegeseparation",
        "rsaauthentication",
        "rhostsrsaauthentication",
        "uselogin",
        "keyregenerationinterval",
        "serverkeybits",
        "pamauthenticationviakbdint",
        "skeyauthentication",
        "rhostsauthentication",
        "verifyreversemapping",
        "reversemappingcheck",
        "afstokenpassing",
        "kerberostgtpassing",
        "debianbanner",
        "channeltimeout",
        "sshdsessionpath",
        "perSourcePenalties",
        "persourcepenalties",
        "persourcepenaltyexemptlist",
        "refuseconnection",
    ]
)

_FLAG_VALUES = {"yes": "yes", "no": "no"}
_ROOTLOGIN_VALUES = {
    "yes": "yes",
    "no": "no",
    "without-password": "prohibit-password",
    "prohibit-password": "prohibit-password",
    "forced-commands-only": "forced-commands-only",
}
_LOGLEVELS = {
    "QUIET": "QUIET",
    "FATAL": "FATAL",
    "ERROR": "ERROR",
    "INFO": "INFO",
    "VERBOSE": "VERBOSE",
    "DEBUG": "DEBUG",
    "DEBUG1": "DEBUG",
    "DEBUG2": "DEBUG2",
    "DEBUG3": "DEBUG3",
}
_TIME_PART = re.compile(r"(\d+)([smhdwSMHDW]?)")
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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


def split_args(text: str) -> list[str] | None:
    """Split arguments like OpenSSH's argv_split: quotes group, backslash escapes, ``#`` ends the line.

    Returns None for an unterminated quote (sshd: "invalid quotes").
    """
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] == "#":
            break
        current: list[str] = []
        quote: str | None = None
        while i < n:
            ch = text[i]
            if quote is None and ch in " \t\r\n":
                break
            if ch == "\\" and i + 1 < n and text[i + 1] in "\\\"' \t":
                current.append(text[i + 1])
                i += 2
                continue
            if ch in "\"'":
                if quote is None:
                    quote = ch
                    i += 1
                    continue
                if quote == ch:
                    quote = None
                    i += 1
                    continue
            current.append(ch)
            i += 1
        if quote is not None:
            return None
        args.append("".join(current))
    return args


def split_keyword(line: str) -> tuple[str, str] | None:
    """Split a line into keyword and the rest, as OpenSSH's strdelim does (white space or one ``=``)."""
    stripped = line.strip(" \t\r\n\f")
    if not stripped or stripped.startswith("#"):
        return None
    match = re.match(r"([^\s=]+)\s*(?:=\s*)?(.*)$", stripped)
    if match is None:
        return None
    return match.group(1), match.group(2)


def convtime(text: str) -> int | None:
    """OpenSSH's convtime: ``90``, ``2m``, ``1h30m`` -> seconds; None when malformed."""
    if not text:
        return None
    total, pos = 0, 0
    for part in _TIME_PART.finditer(text):
        if part.start() != pos:
            return None
        total += int(part.group(1)) * _TIME_UNITS[part.group(2).lower()]
        pos = part.end()
    return total if pos == len(text) else None


def normalize(keyword: str, args: list[str]) -> str | None:
    """The value as ``sshd -T`` prints it, or None when sshd would reject it."""
    kind, default = MODELED.get(keyword, (WORDS, ""))
    # servconf.c: AcceptEnv takes names ("Invalid environment name" for an empty one or one with "="),
    # SetEnv takes NAME=VALUE pairs ("Invalid environment" without "=").
    if keyword == "acceptenv" and any(not a or "=" in a for a in args):
        return None
    if keyword == "setenv" and any("=" not in a for a in args):
        return None
    if keyword == "port":  # a2port: one decimal number from 1 to 65535 (strtonum)
        number = re.fullmatch(r"[ \t]*\+?(\d+)", args[0]) if len(args) == 1 else None
        return args[0] if number is not None and 0 < int(number.group(1)) <= 65535 else None
    if kind == WORDS:
        return " ".join(args)
    if kind == ALGORITHMS:
        if len(args) != 1:
            return None
        value = args[0]
        names = value[1:] if value[:1] in ("+", "^") else value
        if not value.startswith("-") and not all(n in SUPPORTED.get(keyword, ()) for n in names.split(",")):
            return None  # servconf.c: ciphers_valid / mac_valid / kex_names_valid
        return algorithm_list(value, default)
    if len(args) != 1:
        return None
    arg = args[0]
    if kind == FLAG:
        return _FLAG_VALUES.get(arg.lower())
    if kind == ROOTLOGIN:
        return _ROOTLOGIN_VALUES.get(arg.lower())
    if kind == LOGLEVEL:
        return _LOGLEVELS.get(arg.upper())
    if kind == TIME:
        seconds = convtime(arg)
        return None if seconds is None else str(seconds)
    if kind == INT:
        return arg if re.fullmatch(r"-?\d+", arg) else None
    return arg


def algorithm_list(value: str, default: str) -> str:
    """OpenSSH's algorithm list syntax: ``+a,b`` appends to the default, ``-pat`` removes what matches the
    patterns, ``^a`` puts algorithms first; a plain list replaces the default."""
    base = default.split(",")
    if value.startswith("+"):
        extra = [a for a in value[1:].split(",") if a not in base]
        return ",".join(base + extra)
    if value.startswith("-"):
        patterns = value[1:].split(",")
        return ",".join(a for a in base if not any(fnmatch.fnmatchcase(a, p) for p in patterns))
    if value.startswith("^"):
        first = value[1:].split(",")
        return ",".join(first + [a for a in base if a not in first])
    return value


MATCH_CRITERIA = frozenset({"user", "group", "host", "address", "localaddress", "localport", "rdomain"})


def match_problem(args: list[str]) -> str | None:
    """What servconf.c's match_cfg_line refuses: an unknown criterion, one without its argument, or
    ``all`` combined with anything."""
    if not args:
        return "Match needs one or more criteria"
    if args[0].lower() == "all":
        return None if len(args) == 1 else "'all' cannot be combined with other Match criteria"
    for index in range(0, len(args), 2):
        criterion = args[index].lower()
        if criterion == "all":
            return "'all' cannot be combined with other Match criteria"
        if index + 1 >= len(args) or args[index + 1] == "":
            return "a Match criterion without its argument"
        if criterion not in MATCH_CRITERIA:
            return "an unsupported Match criterion"
    return None


Reader = Callable[[str], "str | Unknown"]
Globber = Callable[[str], list[str]]

# sshd itself only limits the include depth (16); its include cache makes it re-parse an included file
# every time it is included, so a 16-deep chain of wide globs costs sshd itself exponential time. We stop
# where sshd stops (depth, and every fatal error), and also where judging would cost more than about a
# second: then the configuration cannot be decided, which the SSH checks report as an error.
MAX_FILE_PARSES = 1024  # files parsed, counting every repeated inclusion of the same file
MAX_LINES = 40_000  # lines parsed in total
MAX_CHARS = 1024 * 1024  # characters parsed in total (one huge line costs as much as many)
MAX_GLOB_ENTRIES = 20_000  # directory entries examined by Include globs


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
        for number, raw in enumerate(lines, start=1):
            split = split_keyword(raw)
            if split is None:
                continue
            word, rest = split
            keyword = ALIASES.get(word.lower(), word.lower())
            where = f"{_safe(path)}:{number}"
            args = split_args(rest)
            if args is None:
                self.fatal(f"{where}: invalid quotes")
                continue
            if not args:
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


class GlobBudgetExceeded(Exception):
    """An Include glob would examine more directory entries than the budget allows."""


def _glob_regex(part: str) -> re.Pattern[str]:
    """glob(3)/fnmatch(3) for one path component: ``*``, ``?``, ``[...]`` (``!`` or ``^`` negates) and
    backslash escapes (sshd calls glob without GLOB_NOESCAPE). POSIX classes like ``[:alpha:]`` are
    not supported (they match literally here)."""
    out, i, n = [], 0, len(part)
    while i < n:
        ch = part[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(part[i + 1]))
            i += 2
        elif ch == "*":
            out.append(".*")
            i += 1
        elif ch == "?":
            out.append(".")
            i += 1
        elif ch == "[":
            j = i + 1
            if j < n and part[j] in "!^":
                j += 1
            if j < n and part[j] == "]":
                j += 1
            while j < n and part[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(ch))
                i += 1
                continue
            body = part[i + 1 : j]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = j + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _has_magic(part: str) -> bool:
    return any(ch in "*?[" for ch in re.sub(r"\\.", "", part))


def bounded_glob(target: Target, limit: int = MAX_GLOB_ENTRIES) -> Globber:
    """glob(3) with GLOB flags 0, as sshd expands Include, over the root-confined target: sorted
    results, no leading-dot names unless the pattern's component starts with a dot, a name without
    wildcards kept when it exists (even as a dangling link). Every directory entry examined counts
    against ``limit`` across all calls, so no configuration can make the expansion unbounded."""
    examined = [0]

    def glob(pattern: str) -> list[str]:
        matches = [""]
        for part in (p for p in pattern.split("/") if p):
            following: list[str] = []
            if not _has_magic(part):
                literal = re.sub(r"\\(.)", r"\1", part)
                following = [f"{prefix}/{literal}" for prefix in matches]
            else:
                regex = _glob_regex(part)
                hidden_ok = part.startswith((".", "\\."))
                for prefix in matches:
                    names = target.list_dir(prefix or "/")
                    if isinstance(names, Unknown):
                        continue
                    examined[0] += len(names)
                    if examined[0] > limit:
                        raise GlobBudgetExceeded
                    following.extend(
                        f"{prefix}/{name}"
                        for name in names
                        if regex.fullmatch(name) and (hidden_ok or not name.startswith("."))
                    )
            matches = following
            if len(matches) > limit:
                raise GlobBudgetExceeded
        return sorted(m for m in matches if m and (target.exists(m) or target.readlink(m) is not None))

    return glob


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
    return parse_sshd_config(target.read_text, bounded_glob(target))
