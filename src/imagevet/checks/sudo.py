"""sudo's Defaults: every command on a pseudo-terminal (use_pty), and a log file of what was run."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.sudoers import SudoDefault
from imagevet.model import Evidence, Outcome, Status, Unknown


def _defaults(facts: Facts) -> tuple[SudoDefault, ...] | Outcome:
    sudoers = facts.sudoers
    if sudoers is None:
        return Outcome.of(Status.SKIP, "sudo is not installed (no /etc/sudoers)")
    if isinstance(sudoers, Unknown):
        return Outcome.of(Status.ERROR, sudoers.reason)
    return sudoers.defaults


def _found(hits: list[SudoDefault], missing: str) -> Outcome:
    if hits:
        return Outcome(Status.PASS, tuple(Evidence(d.text, d.path, d.line) for d in hits))
    return Outcome.of(Status.FAIL, missing)


def use_pty(facts: Facts, options: CheckOptions) -> Outcome:
    defaults = _defaults(facts)
    if isinstance(defaults, Outcome):
        return defaults
    hits = [d for d in defaults if "use_pty" in d.text and "!use_pty" not in d.text]
    return _found(hits, "no 'Defaults use_pty' in /etc/sudoers or /etc/sudoers.d")


def logfile(facts: Facts, options: CheckOptions) -> Outcome:
    defaults = _defaults(facts)
    if isinstance(defaults, Outcome):
        return defaults
    hits = [d for d in defaults if "logfile=" in d.text]
    return _found(hits, "no 'Defaults logfile=' in /etc/sudoers or /etc/sudoers.d")
