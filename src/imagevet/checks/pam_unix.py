"""pam_unix, the module that checks and sets passwords against /etc/shadow, one check per CIS
recommendation (Debian 12 and Ubuntu 5.3.2.1 and 5.3.3.4.1/.3/.4, AlmaLinux 9 5.3.2.5 and the same
5.3.3.4.x): it is in each of the four stacks; no line of it takes nullok; its password lines hash new
passwords with yescrypt or sha512 and take the new password the module before them asked for
(use_authtok).

The stacks are the files every service includes (facts/pam.py STACKS: Debian's common-*, Red Hat's
system-auth and password-auth). Without any of them the checks skip, as the other PAM checks do; a stack
file there but unreadable is an error for all of them. pam_unix(8) reads its arguments in order, and of
its hashing arguments the last one wins (Linux-PAM's pam_unix/support.c sets one hash at a time); with
none, it takes login.defs ENCRYPT_METHOD, which CIS does not accept in place of the argument."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.accounts import line_evidence, stack_lines
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.pam import ModuleLine
from imagevet.model import Evidence, Outcome, Status

UNIX = "pam_unix.so"
KINDS = ("auth", "account", "password", "session")
# pam_unix(8), Linux-PAM 1.5: the arguments that choose how a new password is hashed.
HASHES = ("md5", "bigcrypt", "sha256", "sha512", "blowfish", "gost_yescrypt", "yescrypt")
STRONG = ("sha512", "yescrypt")  # CIS 5.3.3.4.3: "sha512 or yescrypt"


def enabled(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_unix in the auth, account, password and session stacks: a stack without it authenticates,
    or opens sessions, by whatever else is there."""
    evidence: list[Evidence] = []
    failed = skipped = 0
    for kind in KINDS:
        lines = stack_lines(facts, kind, UNIX)
        if isinstance(lines, Outcome):
            if lines.status is Status.ERROR:
                return lines
            failed += lines.status is Status.FAIL
            skipped += lines.status is Status.SKIP
            evidence += lines.evidence
            continue
        evidence += [line_evidence(line) for line in lines]
    if skipped == len(KINDS):
        return Outcome.of(Status.SKIP, "no PAM stack (common-* or system-auth) in the image")
    return Outcome(Status.FAIL if failed or skipped else Status.PASS, tuple(evidence))


def _each_unix_line(
    facts: Facts, kinds: tuple[str, ...], problem: Callable[[ModuleLine], str | None]
) -> Outcome:
    """Fail where ``problem`` names something wrong on a pam_unix line of ``kinds``. A stack with no
    pam_unix line is pam-unix-enabled's to fail; here it decides only when no stack has one."""
    evidence: list[Evidence] = []
    judged = failed = False
    undecided: list[Outcome] = []
    for kind in kinds:
        lines = stack_lines(facts, kind, UNIX)
        if isinstance(lines, Outcome):
            if lines.status is Status.ERROR:
                return lines
            undecided.append(lines)
            continue
        for line in lines:
            judged = True
            evidence.append(line_evidence(line))
            found = problem(line)
            if found:
                failed = True
                evidence.append(Evidence(found, line.path, line.line))
    if not judged:  # no stack at all (skip), or pam_unix in none of them (fail)
        return next((o for o in undecided if o.status is Status.FAIL), undecided[0])
    return Outcome(Status.FAIL if failed else Status.PASS, tuple(evidence))


def no_nullok(facts: Facts, options: CheckOptions) -> Outcome:
    """No pam_unix line takes nullok, which lets an account with an empty password field log in."""
    return _each_unix_line(
        facts,
        KINDS,
        lambda line: "nullok: an empty password is accepted" if line.argument("nullok") is not None else None,
    )


def strong_hash(facts: Facts, options: CheckOptions) -> Outcome:
    """Each pam_unix password line names yescrypt or sha512 as its (last) hashing argument."""

    def problem(line: ModuleLine) -> str | None:
        named = [argument for argument in line.arguments if argument in HASHES]
        if not named:
            return "no hashing argument (yescrypt or sha512): the hash is left to login.defs"
        return None if named[-1] in STRONG else f"{named[-1]}: not yescrypt or sha512"

    return _each_unix_line(facts, ("password",), problem)


def use_authtok(facts: Facts, options: CheckOptions) -> Outcome:
    """Each pam_unix password line takes use_authtok, so that it sets the password pam_pwquality (or
    pam_pwhistory) checked, instead of asking again for one nothing checked."""
    return _each_unix_line(
        facts,
        ("password",),
        lambda line: None if line.argument("use_authtok") is not None else "no use_authtok",
    )
