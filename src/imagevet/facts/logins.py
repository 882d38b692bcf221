"""What a login session gets from the image beyond the account databases: the shells /etc/shells calls
valid, the shell timeout (``TMOUT``) the system-wide profiles set, useradd's defaults for new accounts
(/etc/default/useradd), and the PAM stack of ``su``.

Each gatherer reads files only; an unreadable file is Unknown (the checks make it an error), a file the
image lacks is None where its absence means something (no su stack: su is not installed).
"""

from __future__ import annotations

from imagevet.facts.pam import ModuleLine, Setting, parse_stack
from imagevet.facts.shell_vars import Effect, effects
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


def gather_timeout(target: Target) -> tuple[Effect, ...] | Unknown:
    """What the system-wide profiles do to TMOUT, file by file in the order a login shell reads them, as
    facts/shell_vars.py reads each; Unknown if one of them cannot be read."""
    found: list[Effect] = []
    for path in (*PROFILE_FILES, *sorted(target.glob(PROFILE_D))):
        if not target.exists(path):
            continue
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        found += effects(text, path)
    return tuple(found)


def gather_shells(target: Target) -> tuple[str, ...] | Unknown:
    """The login shells /etc/shells lists (comments and blank lines left out)."""
    text = target.read_text(SHELLS)
    if isinstance(text, Unknown):
        return text
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def parse_useradd_defaults(text: str) -> dict[str, Setting]:
    """``KEY=VALUE`` lines as useradd itself reads them (shadow's get_defaults): a line counts only where
    it starts with the key and "=" (no space before or around it), and the value is the rest of the line,
    spaces, quotes and carriage returns included, which useradd then rejects as "invalid numeric argument"
    and ignores. The last line of a key is kept."""
    values = {}
    for number, line in enumerate(text.split("\n"), start=1):
        key, equals, value = line.partition("=")
        if equals and key and key.isidentifier():
            values[key] = Setting(value, USERADD_DEFAULTS, number)
    return values


def gather_useradd_defaults(target: Target) -> dict[str, Setting] | Unknown | None:
    """/etc/default/useradd's settings; None when the image has no such file (useradd's built-in defaults
    apply: INACTIVE -1, never)."""
    if not target.exists(USERADD_DEFAULTS):
        return None
    text = target.read_text(USERADD_DEFAULTS)
    if isinstance(text, Unknown):
        return text
    return parse_useradd_defaults(text)


def gather_su_stack(target: Target) -> tuple[ModuleLine, ...] | Unknown | None:
    """The auth lines of /etc/pam.d/su; None when there is none (no su, or a PAM-less image)."""
    if not target.exists(SU_STACK):
        return None
    text = target.read_text(SU_STACK)
    if isinstance(text, Unknown):
        return text
    return tuple(m for m in parse_stack(text, SU_STACK) if m.kind == "auth")
