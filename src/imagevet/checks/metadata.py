"""Loading and validating check metadata (metadata.yaml)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from imagevet.errors import DataError
from imagevet.model import RemediationStep, Severity

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
FAMILIES = ("debian", "rhel", "suse", "alpine", "default")


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: dict[str, tuple[RemediationStep, ...]]
    references: tuple[str, ...]

    def remediation_for(self, family: str) -> tuple[RemediationStep, ...]:
        """Steps for the image's OS family, falling back to the generic ones."""
        return self.remediation.get(family) or self.remediation.get("default") or ()


def _step(check_id: str, raw: Any) -> RemediationStep:
    if not isinstance(raw, dict):
        raise DataError(f"check {check_id}: remediation step must be a mapping")
    note = str(raw.get("note", ""))
    when = str(raw.get("when", ""))
    if when not in ("", "running"):
        raise DataError(f"check {check_id}: remediation 'when' must be 'running'")
    if "run" in raw:
        return RemediationStep("command", str(raw["run"]), None, note, when)
    if "file" in raw and "content" in raw:
        return RemediationStep("file", str(raw["content"]), str(raw["file"]), note)
    if note:
        return RemediationStep("note", note, None, "")
    raise DataError(f"check {check_id}: remediation step needs 'run', 'file' with 'content', or 'note'")


def parse_metadata(data: Any) -> dict[str, CheckMeta]:
    if not isinstance(data, dict):
        raise DataError("check metadata: top level must be a mapping of check id to record")
    checks: dict[str, CheckMeta] = {}
    for check_id, record in data.items():
        if not isinstance(check_id, str) or not _ID.fullmatch(check_id):
            raise DataError(f"check metadata: id {check_id!r} is not kebab-case")
        if not isinstance(record, dict):
            raise DataError(f"check {check_id}: record must be a mapping")
        missing = {"title", "severity", "rationale", "remediation", "references"} - set(record)
        if missing:
            raise DataError(f"check {check_id}: missing {', '.join(sorted(missing))}")
        try:
            severity = Severity(record["severity"])
        except ValueError as exc:
            raise DataError(f"check {check_id}: unknown severity {record['severity']!r}") from exc
        remediation_raw = record["remediation"]
        if not isinstance(remediation_raw, dict) or not set(remediation_raw) <= set(FAMILIES):
            raise DataError(f"check {check_id}: remediation keys must be among {', '.join(FAMILIES)}")
        remediation = {
            family: tuple(_step(check_id, step) for step in steps)
            for family, steps in remediation_raw.items()
        }
        references = record["references"]
        if not isinstance(references, list) or not references:
            raise DataError(f"check {check_id}: references must be a non-empty list")
        checks[check_id] = CheckMeta(
            id=check_id,
            title=str(record["title"]),
            severity=severity,
            rationale=" ".join(str(record["rationale"]).split()),
            remediation=remediation,
            references=tuple(str(r) for r in references),
        )
    return checks


@functools.cache
def builtin_metadata() -> dict[str, CheckMeta]:
    text = resources.files("imagevet.checks").joinpath("metadata.yaml").read_text(encoding="utf-8")
    return parse_metadata(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
