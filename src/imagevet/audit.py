"""Run checks against a target and assemble the report (no printing, no clock, no environment)."""

from __future__ import annotations

from imagevet import __version__
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.registry import CHECKS
from imagevet.errors import CheckSelectionError
from imagevet.facts import Facts
from imagevet.model import CheckResult, OsRelease, Report, Status, Unknown
from imagevet.target.base import Target
from imagevet.vuln.matcher import Lookup
from imagevet.waivers import WaiverSet


def select_checks(requested: list[str] | None) -> list[str]:
    """The check ids to run, in registry order; unknown ids are a usage error."""
    if not requested:
        return list(CHECKS)
    unknown = [c for c in requested if c not in CHECKS]
    if unknown:
        raise CheckSelectionError(f"unknown check id(s): {', '.join(unknown)} (see 'imagevet checks')")
    wanted = set(requested)
    return [c for c in CHECKS if c in wanted]


def run_audit(
    target: Target,
    options: CheckOptions,
    check_ids: list[str],
    waivers: WaiverSet | None = None,
    advisories: Lookup | None = None,
) -> Report:
    metadata = builtin_metadata()
    facts = Facts(target, advisories)
    family = facts.family
    active = waivers.active if waivers else {}
    notices = list(waivers.notices) if waivers else []
    results = []
    for check_id in check_ids:
        meta = metadata[check_id]
        outcome = CHECKS[check_id](facts, options)
        status, waiver = outcome.status, None
        if check_id in active:
            if status is Status.FAIL:
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
                references=meta.references,
                waiver=waiver,
            )
        )
    os = facts.os_release if isinstance(facts.os_release, OsRelease) else None
    if isinstance(facts.os_release, Unknown):
        notices.append(f"OS release unknown: {facts.os_release.reason}")
    return Report(
        target=target.info,
        os=os,
        results=tuple(results),
        as_of=options.as_of,
        tool_version=__version__,
        notices=tuple(notices),
    )
