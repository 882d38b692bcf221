"""default-umask: the umask new files get. login.defs sets it for login, useradd and pam_umask, but every
``umask`` a system-wide profile runs comes after it and wins for the shells that run it, so CIS's audit
asks for 027 or stricter in login.defs and no weaker umask in /etc/profile, /etc/profile.d/*.sh,
/etc/bash.bashrc or /etc/bashrc, under a condition or not (Red Hat's own bashrc gives 002 or 022 by uid).
A login.defs of 027 used to pass with a profile setting 022 (issue 20).

accounts-root-umask: the same judgement of the umasks root's own startup files run (CIS 5.4.2.6); where
they run none, root gets the system default, which default-umask judges."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions, worst
from imagevet.checks.values import judge, parse_rows
from imagevet.facts import Facts
from imagevet.facts.shell_vars import UmaskCall
from imagevet.model import Evidence, Outcome, Status, Unknown

WANTED = 0o027
_LOGIN_DEFS = parse_rows(
    "default-umask",
    {"fact": "login.defs", "keys": ["UMASK"], "op": "mask", "want": "027", "shown": "027 or stricter"},
)


def default_umask(facts: Facts, options: CheckOptions) -> Outcome:
    """UMASK 027 or stricter in login.defs, and no weaker umask in a system-wide profile."""
    base = judge(_LOGIN_DEFS, facts)
    calls = facts.profile_umasks
    if isinstance(calls, Unknown):
        return Outcome(Status.ERROR, (*base.evidence, Evidence(calls.reason)))
    return _with_calls([base.status], list(base.evidence), calls)


def root_umask(facts: Facts, options: CheckOptions) -> Outcome:
    """No umask weaker than 027 in root's .bash_profile, .bash_login, .profile or .bashrc."""
    calls = facts.root_umasks
    if isinstance(calls, Unknown):
        return Outcome.of(Status.ERROR, calls.reason)
    if not calls:
        return Outcome.of(
            Status.PASS, "root's startup files run no umask: root gets the system default (default-umask)"
        )
    return _with_calls([], [], calls)


def _with_calls(statuses: list[Status], evidence: list[Evidence], calls: tuple[UmaskCall, ...]) -> Outcome:
    """Fail on a umask weaker than 027, error on one that is not a plain MODE, one evidence line each."""
    for call in calls:
        when = " (under a condition)" if call.conditional else ""
        if call.mode is None:
            statuses.append(Status.ERROR)
            detail = (
                f"{call.written}{when}: not a plain umask MODE, which cannot be judged without running it"
            )
        elif call.mode & WANTED != WANTED:
            statuses.append(Status.FAIL)
            detail = f"umask {call.mode:03o}{when} is weaker than 027, and wins over login.defs in that shell"
        else:
            detail = f"umask {call.mode:03o}{when}"
        evidence.append(Evidence(detail, call.path, call.line))
    return Outcome(worst(statuses), tuple(evidence))
