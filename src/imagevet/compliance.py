"""Compliance reports: framework controls judged from check results (met, not met, manual ...)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from imagevet import knowledge, packaged
from imagevet.checks.cis import Benchmark, benchmark_for
from imagevet.checks.registry import CHECKS
from imagevet.errors import CheckSelectionError, DataError
from imagevet.model import CheckResult, Report, Status

MET, NOT_MET, MANUAL, NOT_APPLICABLE, UNDECIDED = "met", "not-met", "manual", "not-applicable", "undecided"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: tuple[str, ...]
    manual: str | None  # why people or processes must judge it


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    controls: tuple[Control, ...]

    def check_ids(self) -> list[str]:
        wanted = {c for control in self.controls for c in control.checks}
        return [c for c in CHECKS if c in wanted]


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: str
    results: tuple[CheckResult, ...]


@functools.cache
def frameworks() -> dict[str, Framework]:
    text = packaged.text("imagevet.checks", "frameworks.yaml")
    found = {}
    for key, raw in knowledge.safe_yaml(text)["frameworks"].items():
        controls = []
        for entry in raw["controls"]:
            checks = tuple(entry.get("checks") or ())
            unknown = [c for c in checks if c not in CHECKS]
            if unknown:
                raise DataError(
                    f"frameworks.yaml: {key} {entry['id']}: unknown check(s) {', '.join(unknown)}"
                )
            controls.append(Control(str(entry["id"]), str(entry["title"]), checks, entry.get("manual")))
        found[key] = Framework(key, str(raw["title"]), tuple(controls))
    return found


def framework(key: str) -> Framework:
    known = frameworks()
    if key not in known:
        raise CheckSelectionError(f"unknown framework {key!r} (choose from: {', '.join(known)})")
    return known[key]


def judge(control: Control, results: dict[str, CheckResult]) -> ControlResult:
    """Met only when every check passed; a failed (or waived) check means not met; nothing is ever
    counted as met for lack of data."""
    if not control.checks:
        return ControlResult(control, MANUAL, ())
    mine = tuple(results[c] for c in control.checks if c in results)
    statuses = {r.status for r in mine}
    if statuses & {Status.FAIL, Status.WAIVED}:
        status = NOT_MET
    elif Status.ERROR in statuses:
        status = UNDECIDED
    elif statuses == {Status.SKIP}:
        status = NOT_APPLICABLE
    else:
        status = MET
    return ControlResult(control, status, mine)


def assess(frame: Framework, report: Report) -> tuple[list[ControlResult], dict[str, int | float]]:
    results = {r.check: r for r in report.results}
    judged = [judge(control, results) for control in frame.controls]
    total = len(judged)
    automated = sum(1 for j in judged if j.status != MANUAL)
    coverage: dict[str, int | float] = {
        "controls": total,
        "automated": automated,
        "manual": total - automated,
        "automated_share": round(automated / total, 3) if total else 0.0,
        **{
            status: sum(1 for j in judged if j.status == status)
            for status in (MET, NOT_MET, UNDECIDED, NOT_APPLICABLE)
        },
    }
    return judged, coverage


def cis_benchmark(frame: Framework, report: Report) -> Benchmark | None:
    """For the CIS framework, the distribution's own CIS benchmark (its numbers are what auditors cite)."""
    return benchmark_for(report.os) if frame.key == "cis-l1" else None


def recommendation_ids(control: Control, benchmark: Benchmark | None) -> list[str]:
    """The benchmark's recommendation numbers that this control's checks stand for, in check order."""
    if benchmark is None:
        return []
    ids = [r.id for check in control.checks for r in benchmark.checks.get(check, ())]
    return list(dict.fromkeys(ids))
