"""Run checks against a target and assemble the report (no printing, no clock, no environment)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from imagevet import __version__, knowledge, packaged
from imagevet.checks.base import CheckOptions
from imagevet.checks.cis import benchmark_for
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.needs import needs_for
from imagevet.checks.registry import CHECKS
from imagevet.errors import CheckSelectionError, DataError
from imagevet.facts import Facts
from imagevet.facts.collection import Vulnerabilities
from imagevet.model import CheckResult, Gate, OsRelease, Report, Status, Unknown
from imagevet.target.base import Target
from imagevet.vuln.coverage import Advisories, CoveragePolicy

if TYPE_CHECKING:  # the matcher is imported by the check that scans, waivers by the CLI when given
    from imagevet.vuln.matcher import Lookup
    from imagevet.waivers import WaiverSet


@functools.cache
def profiles() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Profile name -> (title, check ids), from profiles.yaml; "all" is every registered check."""
    text = packaged.text("imagevet.checks", "profiles.yaml")
    data = knowledge.safe_yaml(text)["profiles"]
    result = {name: (str(entry["title"]), tuple(entry["checks"])) for name, entry in data.items()}
    for name, (_, ids) in result.items():
        unknown = [i for i in ids if i not in CHECKS]
        if unknown:
            raise DataError(f"profiles.yaml: profile {name} names unknown check(s) {', '.join(unknown)}")
    result["all"] = ("Every check", tuple(CHECKS))
    return result


def select_checks(requested: list[str] | None, profile: str = "checklist") -> list[str]:
    """The check ids to run, in registry order: ``requested`` if given, else the profile's."""
    if not requested:
        known = profiles()
        if profile not in known:
            raise CheckSelectionError(f"unknown profile {profile!r} (choose from: {', '.join(known)})")
        wanted_ids = set(known[profile][1])
        return [c for c in CHECKS if c in wanted_ids]
    unknown = [c for c in requested if c not in CHECKS]
    if unknown:
        raise CheckSelectionError(f"unknown check id(s): {', '.join(unknown)} (see 'imagevet checks')")
    wanted = set(requested)
    return [c for c in CHECKS if c in wanted]


def with_cloud_checks(check_ids: list[str]) -> list[str]:
    """``check_ids`` and the cloud readiness checks (``cloud-*``), in registry order: what ``--cloud``
    adds when no ``--checks`` were named (an ``ami:`` target implies ``--cloud aws``)."""
    wanted = set(check_ids) | {c for c in CHECKS if c.startswith("cloud-")}
    return [c for c in CHECKS if c in wanted]


def run_audit(
    target: Target,
    options: CheckOptions,
    check_ids: list[str],
    waivers: WaiverSet | None = None,
    advisories: Advisories | Lookup | None = None,
    gate: Gate | None = None,
) -> Report:
    """Run ``check_ids`` on ``target``. ``advisories`` is the advisory database with its coverage policy,
    or an opened database (vuln.db.AdvisoryDatabase, judged fresh as of the audit date), or None (then
    the checks that need advisories are ``error``). A waiver covers a check's ``fail`` and its ``error``."""
    metadata = builtin_metadata()
    if advisories is not None and not isinstance(advisories, Advisories):
        as_of = dt.datetime.combine(options.as_of, dt.time(), tzinfo=dt.UTC)
        advisories = Advisories.of_database(advisories, CoveragePolicy(as_of))
    facts = Facts(target, advisories, needs_for(check_ids))  # each fact gathered when a check asks
    facts.start_file_walk()  # but the walk of every file begins now, beside the rest
    family = facts.family
    active = waivers.active if waivers else {}
    os = facts.os_release if isinstance(facts.os_release, OsRelease) else None
    benchmark = benchmark_for(os)
    notices = list(waivers.notices) if waivers else []
    results = []
    for check_id in check_ids:
        meta = metadata[check_id]
        outcome = CHECKS[check_id](facts, options)
        status, waiver = outcome.status, None
        if check_id in active:
            if status in (Status.FAIL, Status.ERROR):
                status, waiver = Status.WAIVED, active[check_id]
            else:
                notices.append(f"waiver for {check_id} not needed: the check is {status.value}")
        results.append(
            CheckResult(
                check=check_id,
                title=meta.title,
                severity=meta.severity,
                status=status,
                evidence=outcome.evidence,
                remediation=meta.remediation_for(family),
                rationale=meta.rationale,
                references=meta.references + (benchmark.references(check_id) if benchmark else ()),
                waiver=waiver,
            )
        )
    if isinstance(facts.os_release, Unknown):
        notices.append(f"OS release unknown: {facts.os_release.reason}")
    vulnerabilities = facts.__dict__.get("vulnerabilities")  # only when a check asked for them
    if isinstance(vulnerabilities, Vulnerabilities):
        notices += [f"warning: {w}" for w in vulnerabilities.coverage.warnings]
    return Report(
        target=target.info,
        os=os,
        results=tuple(results),
        as_of=options.as_of,
        tool_version=__version__,
        notices=tuple(notices),
        gate=gate or Gate(),
    )
