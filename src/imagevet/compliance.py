"""Compliance reports: framework controls judged from check results (met, not met, manual ...)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from imagevet import knowledge, packaged
from imagevet.checks.cis import Benchmark, Listed, benchmark_for, builtin_benchmarks, level1_server
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
    recommendations: tuple[str, ...] = ()  # a control that is one CIS recommendation: its number
    # Where its checks judge only part of it: what they leave to people. Such a control is never met: when
    # nothing its checks judge fails, it is manual, with this as the reason.
    partial: str | None = None


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    controls: tuple[Control, ...]

    def check_ids(self) -> list[str]:
        """The checks an audit runs for this framework. For cis-l1 also every check a CIS benchmark maps
        to a recommendation: which benchmark applies is known only once the image is read."""
        wanted = {c for control in self.controls for c in control.checks}
        if self.key == "cis-l1":
            wanted |= {c for benchmark in builtin_benchmarks().values() for c in benchmark.checks}
        return [c for c in CHECKS if c in wanted]


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: str
    results: tuple[CheckResult, ...]

    @property
    def left_to_people(self) -> str | None:
        """Why people must judge it, for a manual control: it has no check, or its checks judge part."""
        if self.status != MANUAL:
            return None
        return self.control.manual or self.control.partial


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
    counted as met for lack of data (a check the audit did not run leaves the control undecided)."""
    if not control.checks:
        return ControlResult(control, MANUAL, ())
    mine = tuple(results[c] for c in control.checks if c in results)
    statuses = {r.status for r in mine}
    if statuses & {Status.FAIL, Status.WAIVED}:
        status = NOT_MET
    elif Status.ERROR in statuses or len(mine) < len(control.checks):
        status = UNDECIDED
    elif statuses == {Status.SKIP}:
        status = NOT_APPLICABLE
    else:
        status = MANUAL if control.partial else MET
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


def for_image(frame: Framework, report: Report) -> Framework:
    """The framework as the image's report gives it. cis-l1 on a release whose benchmark imagevet lists
    in full (cis-l1-<benchmark>.yaml) is that benchmark's Level 1 (server) recommendations, one control
    each, decided by the checks cis.yaml maps to its number; a recommendation without one is ``manual``,
    saying why, so the coverage an auditor reads is of the benchmark, not of imagevet's own groups. Any
    other framework, or release, is as frameworks.yaml has it."""
    benchmark = cis_benchmark(frame, report)
    listed = level1_server(benchmark.key) if benchmark is not None else ()
    if benchmark is None or not listed:
        return frame
    by_number: dict[str, list[str]] = {}
    partial: dict[str, list[str]] = {}  # per number, what each check mapped to it leaves out
    whole: set[str] = set()  # numbers some check judges in full
    for check in CHECKS:
        for recommendation in benchmark.checks.get(check, ()):
            if "l1_server" in recommendation.levels:
                by_number.setdefault(recommendation.id, []).append(check)
                if recommendation.partial:
                    partial.setdefault(recommendation.id, []).append(f"{check}: {recommendation.partial}")
                else:
                    whole.add(recommendation.id)
    missing = sorted(set(by_number) - {item.id for item in listed})
    if missing:
        raise DataError(
            f"cis.yaml: {benchmark.key} maps checks to {', '.join(missing)}, which "
            f"cis-l1-{benchmark.key}.yaml does not list as Level 1 (server)"
        )
    controls = tuple(
        Control(
            item.id,
            item.title,
            tuple(by_number.get(item.id, ())),
            None if item.id in by_number else _left_to_people(item),
            (item.id,),
            None if item.id in whole else _judged_in_part(partial.get(item.id)),
        )
        for item in listed
    )
    return Framework(frame.key, f"{benchmark.title}: Level 1 (server) recommendations", controls)


def _judged_in_part(left: list[str] | None) -> str | None:
    """The reason a control is manual although nothing failed: every check mapped to it judges only part
    (where one check judges the whole recommendation, that check decides it and this is not asked)."""
    if not left:
        return None
    return "imagevet judges part of it; people judge the rest (" + "; ".join(left) + ")"


def _left_to_people(item: Listed) -> str:
    if item.manual:
        return "CIS rates it Manual: it asks for the site's own judgement"
    openscap = f" (OpenSCAP rules: {', '.join(item.ssg_rules)})" if item.ssg_rules else ""
    return f"no imagevet check judges it yet{openscap}"


def recommendation_ids(control: Control, benchmark: Benchmark | None) -> list[str]:
    """The benchmark's recommendation numbers that this control's checks stand for, in check order (a
    control that is one recommendation: its own number)."""
    if control.recommendations:
        return list(control.recommendations)
    if benchmark is None:
        return []
    ids = [r.id for check in control.checks for r in benchmark.checks.get(check, ())]
    return list(dict.fromkeys(ids))
