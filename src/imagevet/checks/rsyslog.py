"""rsyslog's configuration, where rsyslog is installed (facts/rsyslog.py): no input takes logs from other
hosts."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.values import installed_packages
from imagevet.facts import Facts
from imagevet.facts.rsyslog import MAIN, NETWORK_MODULES, Rsyslog
from imagevet.model import Evidence, Outcome, Status, Unknown


def _configuration(facts: Facts) -> Rsyslog | Outcome:
    """What rsyslogd reads, or the skip or error both checks share."""
    packages = installed_packages(facts)
    if isinstance(packages, Outcome):
        return packages
    if "rsyslog" not in packages:
        return Outcome.of(Status.SKIP, "rsyslog is not installed")
    found = facts.rsyslog
    if found is None:
        return Outcome.of(Status.ERROR, f"rsyslog is installed but {MAIN} is missing")
    if isinstance(found, Unknown):
        return Outcome.of(Status.ERROR, found.reason)
    return found


def no_remote_input(facts: Facts, options: CheckOptions) -> Outcome:
    """No network input (imtcp, imudp, imrelp, imptcp, imgssapi) in any file rsyslogd reads."""
    found = _configuration(facts)
    if isinstance(found, Outcome):
        return found
    if found.listeners:
        listening = [Evidence(f"takes logs from the network: {item.text}", item.path, item.line)
                     for item in found.listeners]  # fmt: skip
        return Outcome(Status.FAIL, tuple(listening))
    detail = (
        f"no network input ({', '.join(NETWORK_MODULES)}) in the {len(found.files)} file(s) rsyslogd reads"
    )
    return Outcome.of(Status.PASS, Evidence(detail, found.files[0]))
