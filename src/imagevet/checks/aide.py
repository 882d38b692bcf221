"""AIDE, past being installed: its database built (CIS "Ensure AIDE is installed" asks for `aideinit` or
`aide --init` to have run) and its check run on a schedule ("Ensure filesystem integrity is regularly
checked"). Reads facts/aide.py; without the aide package both fail, since nothing checks the files."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.values import installed_packages
from imagevet.facts import Facts
from imagevet.facts.aide import AideFacts
from imagevet.model import Evidence, Outcome, Status, Unknown


def _aide(facts: Facts) -> AideFacts | Outcome:
    packages = installed_packages(facts)
    if isinstance(packages, Outcome):
        return packages
    if "aide" not in packages:
        return Outcome.of(Status.FAIL, "AIDE is not installed: nothing checks the files' integrity")
    return facts.aide


def database(facts: Facts, options: CheckOptions) -> Outcome:
    aide = _aide(facts)
    if isinstance(aide, Outcome):
        return aide
    if aide.config is None:
        return Outcome.of(Status.ERROR, "aide is installed but has no /etc/aide/aide.conf or /etc/aide.conf")
    if isinstance(aide.database, Unknown):
        return Outcome.of(Status.ERROR, aide.database.reason)
    if aide.database_present:
        return Outcome(Status.PASS, (Evidence(f"AIDE database {aide.database}", aide.database),))
    return Outcome(
        Status.FAIL,
        (
            Evidence(
                f"no AIDE database at {aide.database} (as {aide.config} says): run aideinit or aide --init"
            ),
        ),
    )


def periodic(facts: Facts, options: CheckOptions) -> Outcome:
    aide = _aide(facts)
    if isinstance(aide, Outcome):
        return aide
    if aide.schedules:
        return Outcome(Status.PASS, tuple(Evidence(s.what, s.path, s.line) for s in aide.schedules))
    if aide.unreadable:
        return Outcome(
            Status.ERROR,
            tuple(Evidence("cannot be read: it may schedule AIDE's check", path) for path in aide.unreadable),
        )
    return Outcome.of(
        Status.FAIL,
        "nothing runs aide --check: no AIDE timer enabled, no crontab line or cron script runs it",
    )
