"""What a login session gets from the image beyond the account databases: the shells /etc/shells calls
valid, the shell timeout (``TMOUT``) the system-wide profiles set, useradd's defaults for new accounts
(/etc/default/useradd), and the PAM stack of ``su``.

Each gatherer reads files only; an unreadable file is Unknown (the checks make it an error), a file the
image lacks is None where its absence means something (no su stack: su is not installed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.facts.pam import ModuleLine, Setting, parse_key_values, parse_stack
from imagevet.model import Unknown
from imagevet.target.base import Target

SHELLS = "/etc/shells"
USERADD_DEFAULTS = "/etc/default/useradd"
SU_STACK = "/etc/pam.d/su"
# The files every login shell reads system-wide: bash and dash read /etc/profile (which sources
# /etc/profile.d/*.sh on Debian and Red Hat); interactive bash also reads /etc/bash.bashrc (Debian) or
# /etc/bashrc (Red Hat). CIS's audit of the shell timeout greps exactly these.
PROFILE_FILES = ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc")
PROFILE_D = "/etc/profile.d/*.sh"

# "TMOUT=900", "readonly TMOUT=900", "export TMOUT=900", "declare -rx TMOUT=900", "typeset -xr TMOUT=900",
# and the separate "readonly TMOUT" / "export TMOUT" statements, one or several on a line (";").
_ASSIGN = re.compile(r"^(?:(readonly|export|declare\s+-[a-z]+|typeset\s+-[a-z]+)\s+)*TMOUT=(\S*)$")
_MARK = re.compile(r"^(readonly|export|declare\s+-[a-z]+|typeset\s+-[a-z]+)((?:\s+\w+)+)$")


@dataclass(frozen=True)
class TimeoutLine:
    """A statement about TMOUT in a profile file: an assignment (``value`` set) or a readonly/export."""

    value: str | None  # the assigned text, None for a statement that only marks the variable
    readonly: bool
    exported: bool
    path: str
    line: int


def _flags(words: str) -> tuple[bool, bool]:
    readonly = "readonly" in words or bool(re.search(r"(declare|typeset)\s+-[a-z]*r", words))
    exported = "export" in words or bool(re.search(r"(declare|typeset)\s+-[a-z]*x", words))
    return readonly, exported


def parse_timeout_lines(text: str, path: str) -> list[TimeoutLine]:
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for statement in raw.split("#", 1)[0].split(";"):
            statement = statement.strip()
            if "TMOUT" not in statement:
                continue
            assign = _ASSIGN.match(statement)
            if assign:
                readonly, exported = _flags(statement)
                value = assign.group(2).strip("\"'")
                found.append(TimeoutLine(value, readonly, exported, path, number))
                continue
            mark = _MARK.match(statement)
            if mark and "TMOUT" in mark.group(2).split():
                readonly, exported = _flags(mark.group(1))
                found.append(TimeoutLine(None, readonly, exported, path, number))
    return found


def gather_timeout(target: Target) -> tuple[TimeoutLine, ...] | Unknown:
    """Every TMOUT statement of the system-wide profiles; Unknown if one of them cannot be read."""
    lines: list[TimeoutLine] = []
    for path in (*PROFILE_FILES, *sorted(target.glob(PROFILE_D))):
        if not target.exists(path):
            continue
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        lines += parse_timeout_lines(text, path)
    return tuple(lines)


def gather_shells(target: Target) -> tuple[str, ...] | Unknown:
    """The login shells /etc/shells lists (comments and blank lines left out)."""
    text = target.read_text(SHELLS)
    if isinstance(text, Unknown):
        return text
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def gather_useradd_defaults(target: Target) -> dict[str, Setting] | Unknown | None:
    """``KEY=VALUE`` lines of /etc/default/useradd; None when the image has no such file (useradd's
    built-in defaults apply: INACTIVE -1, never)."""
    if not target.exists(USERADD_DEFAULTS):
        return None
    text = target.read_text(USERADD_DEFAULTS)
    if isinstance(text, Unknown):
        return text
    return {
        key: Setting(s.value.strip("\"'"), s.path, s.line)
        for key, s in parse_key_values(text, USERADD_DEFAULTS).items()
    }


def gather_su_stack(target: Target) -> tuple[ModuleLine, ...] | Unknown | None:
    """The auth lines of /etc/pam.d/su; None when there is none (no su, or a PAM-less image)."""
    if not target.exists(SU_STACK):
        return None
    text = target.read_text(SU_STACK)
    if isinstance(text, Unknown):
        return text
    return tuple(m for m in parse_stack(text, SU_STACK) if m.kind == "auth")
