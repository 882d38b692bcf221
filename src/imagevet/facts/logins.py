"""What a login session gets from the image beyond the account databases: the shells /etc/shells calls
valid, the shell timeout (``TMOUT``) the system-wide profiles set, useradd's defaults for new accounts
(/etc/default/useradd), and the PAM stack of ``su``.

Each gatherer reads files only; an unreadable file is Unknown (the checks make it an error), a file the
image lacks is None where its absence means something (no su stack: su is not installed).
"""

from __future__ import annotations

from imagevet.facts.pam import Setting
from imagevet.facts.pam_service import ServiceStack, service_stack
from imagevet.facts.shell_vars import Effect, UmaskCall, effects, umask_calls
from imagevet.model import Unknown
from imagevet.target.base import Target

SHELLS = "/etc/shells"
USERADD_DEFAULTS = "/etc/default/useradd"
SU_STACK = "/etc/pam.d/su"
PAM_CONF = "/etc/pam.conf"
SU_PROGRAMS = ("/bin/su", "/usr/bin/su", "/sbin/su", "/usr/sbin/su")
# The files every login shell reads system-wide: bash and dash read /etc/profile (which sources
# /etc/profile.d/*.sh on Debian and Red Hat); interactive bash also reads /etc/bash.bashrc (Debian) or
# /etc/bashrc (Red Hat). CIS's audit of the shell timeout greps exactly these.
PROFILE_FILES = ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc")
PROFILE_D = "/etc/profile.d/*.sh"
# root's own startup files: CIS 5.4.2.6 names .bash_profile and .bashrc; a login bash reads the first of
# .bash_profile, .bash_login and .profile (bash(1) INVOCATION), and Debian's root has only .profile.
ROOT_STARTUP = ("/root/.bash_profile", "/root/.bash_login", "/root/.profile", "/root/.bashrc")
NO_LOGIN = frozenset({"nologin", "false"})
# Interactive shells by file name: an account with one of these logs in whether /etc/shells lists it or not.
INTERPRETERS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"})
# Multi-call binaries run the applet their link is named after (Alpine's /bin/false -> busybox is false).
MULTICALL = frozenset({"busybox", "toybox"})


def gather_timeout(target: Target) -> tuple[Effect, ...] | Unknown:
    """What the system-wide profiles do to TMOUT, file by file in the order a login shell reads them, as
    facts/shell_vars.py reads each; Unknown if one of them cannot be read."""
    profiles = _profiles(target)
    if isinstance(profiles, Unknown):
        return profiles
    return tuple(effect for path, text in profiles for effect in effects(text, path))


def _profiles(target: Target, paths: tuple[str, ...] | None = None) -> list[tuple[str, str]] | Unknown:
    """(path, text) of each of ``paths`` the image has (by default the system-wide profiles, in the order
    a login shell reads them); Unknown if one of them cannot be read."""
    found = []
    for path in paths if paths is not None else (*PROFILE_FILES, *sorted(target.glob(PROFILE_D))):
        if not target.exists(path):
            continue
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        found.append((path, text))
    return found


def gather_umasks(target: Target) -> tuple[UmaskCall, ...] | Unknown:
    """Every umask the system-wide profiles run, in the order a login shell reads them (the files of
    gather_timeout); Unknown if one of them cannot be read."""
    profiles = _profiles(target)
    if isinstance(profiles, Unknown):
        return profiles
    return tuple(call for path, text in profiles for call in umask_calls(text, path))


def gather_root_umasks(target: Target) -> tuple[UmaskCall, ...] | Unknown:
    """Every umask root's own startup files run (ROOT_STARTUP); Unknown if one of them cannot be read."""
    profiles = _profiles(target, ROOT_STARTUP)
    if isinstance(profiles, Unknown):
        return profiles
    return tuple(call for path, text in profiles for call in umask_calls(text, path))


def parse_shells(text: str) -> tuple[str, ...]:
    """The shells of /etc/shells as glibc's getusershell reads them: on each line the shell starts at the
    first ``/`` (a ``#`` before it makes the line a comment) and ends at white space or ``#``, so
    ``/bin/bash # login`` lists /bin/bash."""
    shells = []
    for line in text.splitlines():
        slash, hash_mark = line.find("/"), line.find("#")
        if slash < 0 or 0 <= hash_mark < slash:
            continue
        word = line[slash:].split("#", 1)[0].split()
        if word:
            shells.append(word[0])
    return tuple(shells)


def gather_shells(target: Target) -> tuple[str, ...] | Unknown:
    """The login shells /etc/shells lists (parse_shells)."""
    text = target.read_text(SHELLS)
    if isinstance(text, Unknown):
        return text
    return parse_shells(text)


def can_log_in(
    shell: str, listed: tuple[str, ...], *, any_program: bool = False, program: str | None = None
) -> bool:
    """Whether an account with this passwd shell gets a shell at login. login and sshd run whatever the
    field names, listed in /etc/shells or not (only chsh and pam_shells read the list); an empty field
    means /bin/sh, and one with a space is run by /bin/sh -c (util-linux login, RHEL's), whatever its
    words. ``program`` is what the shell resolves to in the image (a link named nologin that points at
    bash is bash). nologin and false never give a shell. ``any_program``: every other program counts (a
    python, a tool), as for system accounts, which should have none; otherwise a shell counts where
    /etc/shells lists it or where it is one of the usual interpreters by name (the homes CIS judges are
    those of such accounts, not /sbin's of the shutdown account)."""
    if shell == "" or any(space in shell for space in " \t"):
        return True
    name = (program or shell).rsplit("/", 1)[-1]
    if name in MULTICALL:
        name = shell.rsplit("/", 1)[-1]
    if name in NO_LOGIN:
        return False
    return any_program or shell in listed or name in INTERPRETERS or shell.rsplit("/", 1)[-1] in INTERPRETERS


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


def gather_su_stack(target: Target) -> ServiceStack | Unknown | None:
    """The auth stack su runs, includes followed (facts/pam_service.py): /etc/pam.d/su, or
    /etc/pam.d/other where su is installed without a file of its own. None when the image has no su
    (neither the file nor the program) or no PAM."""
    if not target.exists(SU_STACK) and not any(target.exists(path) for path in SU_PROGRAMS):
        return None
    if not target.is_dir("/etc/pam.d") and target.exists(PAM_CONF):
        return Unknown(f"no /etc/pam.d, so libpam reads {PAM_CONF}, which imagevet does not judge")
    return service_stack(target, "su", "auth")
