"""rsyslog's configuration, where rsyslog is installed (facts/rsyslog.py): no input takes logs from other
hosts, and log files are created 0640 or stricter."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.values import installed_packages
from imagevet.facts import Facts
from imagevet.facts.rsyslog import MAIN, NETWORK_MODULES, Rsyslog
from imagevet.model import Evidence, Outcome, Status, Unknown

WIDEST_MODE = 0o640  # CIS: "0640 or more restrictive"


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


def file_mode(facts: Facts, options: CheckOptions) -> Outcome:
    """Every mode rsyslog is told to create log files with is 0640 or stricter, and there is one: without,
    omfile creates them 0644. Each setting is judged wherever it stands (CIS's audit greps them all); the
    legacy directive's reach (the selector lines after it) is not traced."""
    found = _configuration(facts)
    if isinstance(found, Outcome):
        return found
    if not found.file_modes:
        return Outcome.of(
            Status.FAIL, "no $FileCreateMode or omfile fileCreateMode: rsyslog creates log files 0644"
        )
    judged: list[tuple[Status, Evidence]] = []
    for item in found.file_modes:
        digits = item.mode
        octal = digits.isascii() and digits.isdigit() and set(digits) <= set("01234567") and len(digits) <= 4
        loose = not octal or int(digits, 8) & ~WIDEST_MODE
        shown = f"{item.text}: " + ("not a four-digit octal mode" if not octal else f"mode {digits}")
        judged.append(
            (
                Status.FAIL if loose else Status.PASS,
                Evidence(f"{shown}; wanted 0640 or stricter", item.path, item.line),
            )
        )
    status = Status.FAIL if any(s is Status.FAIL for s, _ in judged) else Status.PASS
    return Outcome(status, tuple(e for _, e in judged))
