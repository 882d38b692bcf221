"""PAM stacks and the libpwquality / pam_faillock / pam_pwhistory settings they use.

Which settings apply follows the libraries' own rules: arguments on the module's line override the
configuration file; libpwquality reads ``pwquality.conf.d/*.conf`` in ASCII order and then
``pwquality.conf``, later values winning (pwquality.conf(5)); pam_faillock reads ``faillock.conf``
(faillock.conf(5)), pam_pwhistory ``pwhistory.conf`` (pwhistory.conf(5), PAM 1.5 and later). Defaults are the
libraries' documented ones (minlen 8; deny 3, unlock_time 600; remember 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.pam_syntax import AMBIGUOUS, logical_lines, tokens
from imagevet.model import Unknown
from imagevet.target.base import Target

# The stacks every login goes through: Debian's common-* files, Red Hat's (authselect-managed) pair.
STACKS = {
    "auth": ("/etc/pam.d/common-auth", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"),
    "password": ("/etc/pam.d/common-password", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"),
    "account": ("/etc/pam.d/common-account", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"),
    "session": ("/etc/pam.d/common-session", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"),
}
# pwquality.conf(5) of libpwquality 1.4.5 (Debian 12's libpwquality-common, read 2026-12-07): minlen 8,
# difok 1, maxrepeat and maxsequence 0 (the check disabled), dictcheck and enforcing 1; enforce_for_root is
# off unless named.
PWQUALITY_DEFAULTS = {
    "minlen": "8",
    "difok": "1",
    "maxrepeat": "0",
    "maxsequence": "0",
    "dictcheck": "1",
    "enforcing": "1",
}
FAILLOCK_DEFAULTS = {"deny": "3", "unlock_time": "600"}
PWHISTORY_DEFAULTS = {"remember": "10"}


@dataclass(frozen=True)
class Setting:
    """A value and where it came from (path and line, or "default")."""

    value: str
    path: str
    line: int | None = None


@dataclass(frozen=True)
class ModuleLine:
    """One module line of a PAM stack, with the file and line it came from."""

    kind: str
    module: str
    arguments: tuple[str, ...]
    path: str
    line: int
    control: str = ""  # required, requisite, sufficient ... or a bracketed [value=action ...]

    def argument(self, name: str, fold_case: bool = False) -> str | None:
        """``name=value`` or a bare flag (value "") among the module's arguments; the last one wins."""
        found = None
        for argument in self.arguments:
            key, equals, value = argument.partition("=")
            if key == name or (fold_case and key.lower() == name):
                found = value if equals else ""
        return found


TYPES = ("auth", "account", "password", "session")
KEYWORDS = ("required", "requisite", "optional", "sufficient", "include", "substack")
ANY_TYPE = "*"  # the kind of a line with an unknown type: libpam puts it in whichever stack it is loading
MUST_FAIL = "(must fail)"  # the module of a line libpam installs to fail: unknown type, no module


def _control(text: str) -> str:
    """A control as libpam reads it: brackets dropped (_pam_StrTok), the six keywords compared without
    case; anything else is ``value=action`` pairs (checks read it with pam_syntax.control_actions), kept
    bracketed and as written, since those names are case-sensitive."""
    return text.lower() if text.lower() in KEYWORDS else f"[{text}]"


def parse_stack(text: str, path: str) -> list[ModuleLine]:
    """Module lines of a pam.d file (``type control module args``) as Linux-PAM reads them: types and
    keyword controls case-insensitive, ``[a b]`` one token (brackets dropped from an argument), one
    leading ``-`` on the type (ignore a missing module), continued lines joined. A line libpam cannot
    use is kept as it keeps it, a handler that always fails but whose control still acts: an unknown
    type (kind ANY_TYPE) or no module (module MUST_FAIL). Debian's ``@include FILE`` is kept as a line of
    kind ``@include`` (module: the file) so that a reader that follows includes sees where it was."""
    modules = []
    for number, line, problem in logical_lines(text):
        if problem:
            modules.append(ModuleLine(AMBIGUOUS, "", (problem,), path, number, AMBIGUOUS))
            continue
        words = tokens(line)
        if not words:
            continue
        if words[0] == ("@include", False):
            if len(words) > 1:
                modules.append(ModuleLine("@include", words[1][0], (), path, number, "@include"))
            continue
        kind = words[0][0].removeprefix("-").lower()
        if kind not in TYPES:
            kind = ANY_TYPE
        control = _control(words[1][0]) if len(words) > 1 else "required"
        if len(words) < 3 or kind == ANY_TYPE:
            modules.append(ModuleLine(kind, MUST_FAIL, (), path, number, control))
            continue
        target = words[2][0]
        # include and substack name a file (kept whole); a module is named by its file name
        module = target if control in ("include", "substack") else target.rsplit("/", 1)[-1]
        arguments = tuple(text for text, _ in words[3:])
        modules.append(ModuleLine(kind, module, arguments, path, number, control))
    return modules


def parse_key_values(text: str, path: str) -> dict[str, Setting]:
    """``name = value`` lines (comments with #); flags without a value map to ""."""
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = Setting(value.strip(), path, number)
    return values


def _one_file_settings(target: Target, path: str, defaults: dict[str, str]) -> dict[str, Setting]:
    settings = {key: Setting(value, "default") for key, value in defaults.items()}
    text = target.read_text(path)
    if not isinstance(text, Unknown):
        settings.update(parse_key_values(text, path))
    return settings


def faillock_settings(target: Target) -> dict[str, Setting]:
    return _one_file_settings(target, "/etc/security/faillock.conf", FAILLOCK_DEFAULTS)


def pwhistory_settings(target: Target) -> dict[str, Setting]:
    return _one_file_settings(target, "/etc/security/pwhistory.conf", PWHISTORY_DEFAULTS)


def effective(
    settings: dict[str, Setting], line: ModuleLine, name: str, fold_case: bool = False
) -> Setting | None:
    """The value the module uses on this line: its own argument, else the configuration's. ``fold_case``:
    the module matches argument names without regard to case (pam_pwquality, through libpwquality)."""
    argument = line.argument(name, fold_case)
    if argument is not None:
        return Setting(argument, line.path, line.line)
    return settings.get(name)


@dataclass(frozen=True)
class PamFacts:
    """The auth, account, password and session stacks (files present, and their lines of that kind),
    with the pwquality, faillock and pwhistory settings they use: gathered once for every PAM check."""

    stacks: dict[str, tuple[tuple[str, ...], tuple[ModuleLine, ...]]]
    pwquality: dict[str, Setting]
    faillock: dict[str, Setting]
    pwhistory: dict[str, Setting]
    unreadable: tuple[
        str, ...
    ] = ()  # stack and pwquality files that are there but could not be read, with why
    pwquality_stop: str | None = None  # where libpwquality stops reading its files (facts/pwquality.py)

    def stack_modules(self, kind: str, module: str) -> tuple[list[str], list[ModuleLine]]:
        """The stack files present for ``kind`` (auth or password), and the lines that use ``module``."""
        present, lines = self.stacks[kind]
        return list(present), [m for m in lines if m.module == module]


def gather_pam(target: Target) -> PamFacts:
    stacks: dict[str, tuple[tuple[str, ...], tuple[ModuleLine, ...]]] = {}
    unreadable: dict[str, None] = {}
    parsed: dict[str, list[ModuleLine] | None] = {}  # each file read once: system-auth serves four stacks
    for path in dict.fromkeys(path for paths in STACKS.values() for path in paths):
        text = target.read_text(path)
        if isinstance(text, Unknown):
            if target.exists(path) or target.readlink(path) is not None:  # a dangling link or loop too
                unreadable[f"{path}: {text.reason}"] = None
            parsed[path] = None
        else:
            parsed[path] = parse_stack(text, path)
    for kind, paths in STACKS.items():
        present = [path for path in paths if parsed[path] is not None]
        lines = [m for path in present for m in parsed[path] or () if m.kind == kind]
        stacks[kind] = (tuple(present), tuple(lines))
    from imagevet.facts.pwquality import gather_pwquality  # which takes its defaults from here

    pwquality = gather_pwquality(target)
    return PamFacts(
        stacks,
        pwquality.settings,
        faillock_settings(target),
        pwhistory_settings(target),
        (*unreadable, *pwquality.unreadable),
        pwquality.stopped,
    )
