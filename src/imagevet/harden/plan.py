"""Which steps to apply: the remediation of every failing check, in registry order but for the few that
must come last (LAST). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.checks.metadata import builtin_metadata
from imagevet.model import RemediationStep, Report, Status

# Fixes that must come after every other change: AIDE's database records the image as it is when it is
# built, so a fix applied after it would be the first thing its daily check reports.
LAST = ("aide-database",)

# Files under these directories are read by programs that insist on a strict mode.
STRICT_MODES = {"/etc/sudoers.d/": "0440"}


@dataclass(frozen=True)
class Fix:
    check: str
    title: str
    severity: str
    steps: tuple[RemediationStep, ...]

    @property
    def manual(self) -> tuple[str, ...]:
        """Advice that needs a person (notes without a command or file)."""
        return tuple(s.text for s in self.steps if s.kind == "note")


@dataclass(frozen=True)
class Plan:
    target: str
    os: str
    generated_by: str
    fixes: tuple[Fix, ...]

    @property
    def headline(self) -> str:
        return (
            f"Hardening for {self.os} ({self.target}), made by {self.generated_by} from the failing checks."
        )


def file_mode(path: str) -> str:
    return next((mode for prefix, mode in STRICT_MODES.items() if path.startswith(prefix)), "0644")


def plan_for(report: Report, only: set[str] | None = None) -> Plan:
    """A fix per failing check (``only`` restricts them), with the steps for the image's OS family."""
    metadata = builtin_metadata()
    family = report.os.family if report.os else "default"
    fixes = []
    for result in report.results:
        if result.status is not Status.FAIL or (only is not None and result.check not in only):
            continue
        steps = metadata[result.check].remediation_for(family)
        fixes.append(Fix(result.check, result.title, result.severity.value, steps))
    fixes.sort(key=lambda fix: fix.check in LAST)  # stable: registry order otherwise
    os_name = report.os.pretty_name if report.os else "unknown OS"
    return Plan(report.target.path, os_name, f"imagevet {report.tool_version}", tuple(fixes))
