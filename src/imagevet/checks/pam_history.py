"""Password history in the PAM password stack, one check per CIS recommendation (Debian 12 and Ubuntu
5.3.2.4, 5.3.3.3.1-3, 5.3.3.4.2): pam_pwhistory is there; on each of its lines it remembers at least 24
passwords, applies to root too (enforce_for_root) and checks the password the earlier module asked for
(use_authtok); and pam_unix keeps no history of its own (remember=, the older and weaker store).

A line's own arguments win over /etc/security/pwhistory.conf (pwhistory.conf(5)), whose default for
remember is 10; use_authtok is an argument only. Without a password stack the checks skip, as the other
PAM checks do."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.accounts import line_evidence
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.pam import ModuleLine, Setting, effective
from imagevet.model import Evidence, Outcome, Status

MIN_REMEMBERED = 24  # CIS: "remember=24 or more"
PWHISTORY = "pam_pwhistory.so"


def _lines(facts: Facts, module: str) -> tuple[list[str], list[ModuleLine]] | Outcome:
    present, lines = facts.pam.stack_modules("password", module)
    if facts.pam.unreadable:
        return Outcome(Status.ERROR, tuple(Evidence(reason) for reason in facts.pam.unreadable))
    if not present:
        return Outcome.of(Status.SKIP, "no PAM password stack (common-password or system-auth) in the image")
    return present, lines


def _each_pwhistory_line(facts: Facts, judge: Callable[[ModuleLine], str | None]) -> Outcome:
    """Fail without pam_pwhistory, or where ``judge`` names a problem on one of its lines."""
    found = _lines(facts, PWHISTORY)
    if isinstance(found, Outcome):
        return found
    present, lines = found
    if not lines:
        return Outcome.of(Status.FAIL, f"pam_pwhistory is not in the password stack ({', '.join(present)})")
    evidence, failed = [], False
    for line in lines:
        problem = judge(line)
        evidence.append(line_evidence(line))
        if problem:
            failed = True
            evidence.append(Evidence(problem, line.path, line.line))
    return Outcome(Status.FAIL if failed else Status.PASS, tuple(evidence))


def enabled(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_pwhistory_line(facts, lambda line: None)


def _setting_text(setting: Setting) -> str:
    return (
        f"{setting.value} ({setting.path})"
        if setting.path == "default"
        else f"{setting.value} ({setting.path}:{setting.line})"
    )


def remember(facts: Facts, options: CheckOptions) -> Outcome:
    def judge(line: ModuleLine) -> str | None:
        setting = effective(facts.pam.pwhistory, line, "remember") or Setting("?", line.path, line.line)
        value = int(setting.value) if setting.value.isdigit() else None
        if value is None or value < MIN_REMEMBERED:
            return f"remember = {_setting_text(setting)}: fewer than {MIN_REMEMBERED} passwords"
        return None

    return _each_pwhistory_line(facts, judge)


def enforce_for_root(facts: Facts, options: CheckOptions) -> Outcome:
    def judge(line: ModuleLine) -> str | None:
        if effective(facts.pam.pwhistory, line, "enforce_for_root") is None:
            return "no enforce_for_root (on the line or in pwhistory.conf): root may reuse passwords"
        return None

    return _each_pwhistory_line(facts, judge)


def use_authtok(facts: Facts, options: CheckOptions) -> Outcome:
    def judge(line: ModuleLine) -> str | None:
        return None if line.argument("use_authtok") is not None else "no use_authtok on the line"

    return _each_pwhistory_line(facts, judge)


def unix_no_remember(facts: Facts, options: CheckOptions) -> Outcome:
    found = _lines(facts, "pam_unix.so")
    if isinstance(found, Outcome):
        return found
    present, lines = found
    keeping = [line for line in lines if line.argument("remember") is not None]
    if keeping:
        return Outcome(Status.FAIL, tuple(line_evidence(line) for line in keeping))
    return Outcome.of(Status.PASS, f"no pam_unix line with remember= in {', '.join(present)}")
