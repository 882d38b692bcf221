"""CIS Benchmark recommendation numbers for the checks (cis.yaml), and the benchmark that applies to an
image: auditors ask for "CIS Debian 12 5.1.16", not for imagevet's check ids."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from imagevet import knowledge, packaged
from imagevet.errors import DataError
from imagevet.model import OsRelease

LEVELS = ("l1_server", "l2_server", "l1_workstation", "l2_workstation")


@dataclass(frozen=True)
class Recommendation:
    """One CIS recommendation of a benchmark: its number, its title and its levels."""

    id: str
    title: str
    levels: tuple[str, ...]

    def reference(self, benchmark_title: str) -> str:
        """One line for a report's references, naming the benchmark, number, title and server level."""
        server = [
            level.removeprefix("l").removesuffix("_server") for level in self.levels if "server" in level
        ]
        level = f" (Level {server[0]} server)" if server else " (workstation profile only)"
        return f"{benchmark_title} {self.id}: {self.title}{level}"


@dataclass(frozen=True)
class Benchmark:
    """A CIS benchmark for one OS release, and the imagevet checks mapped to its recommendations."""

    key: str
    title: str
    os_id: str
    os_version: str
    source: str
    checks: dict[str, tuple[Recommendation, ...]]

    def applies_to(self, os: OsRelease | None) -> bool:
        """Same distribution and major release ("9.4" is RHEL 9; Ubuntu's "22.04" is its own release)."""
        if os is None or os.id != self.os_id:
            return False
        version = os.version_id if self.os_id == "ubuntu" else os.version_id.split(".", 1)[0]
        return version == self.os_version

    def references(self, check_id: str) -> tuple[str, ...]:
        return tuple(r.reference(self.title) for r in self.checks.get(check_id, ()))


def _recommendation(where: str, raw: Any) -> Recommendation:
    if not isinstance(raw, dict) or not {"id", "title", "levels"} <= set(raw):
        raise DataError(f"cis.yaml: {where}: a recommendation needs id, title and levels")
    levels = tuple(str(level) for level in raw["levels"])
    if not levels or not set(levels) <= set(LEVELS):
        raise DataError(f"cis.yaml: {where}: levels must be among {', '.join(LEVELS)}")
    return Recommendation(str(raw["id"]), str(raw["title"]), levels)


def parse_benchmarks(data: Any, known_checks: set[str]) -> dict[str, Benchmark]:
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), dict):
        raise DataError("cis.yaml: top level must have a 'benchmarks' mapping")
    result = {}
    for key, entry in data["benchmarks"].items():
        try:
            os_entry, checks = entry["os"], entry["checks"]
            title, source = str(entry["title"]), str(entry["source"])
        except (KeyError, TypeError) as exc:
            raise DataError(f"cis.yaml: benchmark {key}: missing {exc}") from exc
        unknown = set(checks) - known_checks
        if unknown:
            raise DataError(f"cis.yaml: benchmark {key} names unknown check(s) {', '.join(sorted(unknown))}")
        result[key] = Benchmark(
            key=key,
            title=title,
            os_id=str(os_entry["id"]),
            os_version=str(os_entry["version"]),
            source=source,
            checks={
                check: tuple(_recommendation(f"{key}/{check}", raw) for raw in recommendations)
                for check, recommendations in checks.items()
            },
        )
    return result


@functools.cache
def builtin_benchmarks() -> dict[str, Benchmark]:
    from imagevet.checks.metadata import builtin_metadata

    text = packaged.text("imagevet.checks", "cis.yaml")
    data = knowledge.safe_yaml(text)
    return parse_benchmarks(data, set(builtin_metadata()))


def benchmark_for(os: OsRelease | None) -> Benchmark | None:
    """The CIS benchmark whose numbers apply to this image, if imagevet carries one for it."""
    return next((b for b in builtin_benchmarks().values() if b.applies_to(os)), None)
