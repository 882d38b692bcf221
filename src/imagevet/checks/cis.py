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
    partial: str | None = None  # what of the recommendation the check does not judge, where it judges part

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


_KEYS = frozenset({"id", "title", "levels", "partial"})


def _recommendation(where: str, raw: Any) -> Recommendation:
    if not isinstance(raw, dict) or not {"id", "title", "levels"} <= set(raw) <= _KEYS:
        raise DataError(f"cis.yaml: {where}: a recommendation needs id, title and levels (partial optional)")
    levels = tuple(str(level) for level in raw["levels"])
    if not levels or not set(levels) <= set(LEVELS):
        raise DataError(f"cis.yaml: {where}: levels must be among {', '.join(LEVELS)}")
    partial = raw.get("partial")
    if partial is not None and (not isinstance(partial, str) or not partial.strip()):
        raise DataError(f"cis.yaml: {where}: partial must say what the check leaves unjudged")
    return Recommendation(str(raw["id"]), str(raw["title"]), levels, partial)


def _entries(data: Any) -> dict[Any, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), dict):
        raise DataError("cis.yaml: top level must have a 'benchmarks' mapping")
    entries: dict[Any, Any] = data["benchmarks"]
    return entries


def _benchmark(key: str, entry: Any, known_checks: set[str] | None) -> Benchmark:
    """One benchmark of cis.yaml; with ``known_checks`` None only its header (title, OS, source) is read:
    enough to know whether it applies to an image."""
    try:
        os_entry, checks = entry["os"], entry["checks"]
        title, source = str(entry["title"]), str(entry["source"])
        os_id, os_version = str(os_entry["id"]), str(os_entry["version"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"cis.yaml: benchmark {key}: missing {exc}") from exc
    if known_checks is None:
        return Benchmark(key, title, os_id, os_version, source, {})
    unknown = set(checks) - known_checks
    if unknown:
        raise DataError(f"cis.yaml: benchmark {key} names unknown check(s) {', '.join(sorted(unknown))}")
    recommendations = {
        check: tuple(_recommendation(f"{key}/{check}", raw) for raw in listed)
        for check, listed in checks.items()
    }
    return Benchmark(key, title, os_id, os_version, source, recommendations)


def parse_benchmarks(data: Any, known_checks: set[str]) -> dict[str, Benchmark]:
    return {key: _benchmark(key, entry, known_checks) for key, entry in _entries(data).items()}


def _builtin_data() -> Any:
    return knowledge.safe_yaml(packaged.text("imagevet.checks", "cis.yaml"))


def _known_checks() -> set[str]:
    from imagevet.checks.metadata import builtin_metadata

    return set(builtin_metadata())


@functools.cache
def builtin_benchmarks() -> dict[str, Benchmark]:
    return parse_benchmarks(_builtin_data(), _known_checks())


@dataclass(frozen=True)
class Listed:
    """A Level 1 (server) recommendation of a benchmark as the benchmark lists it, whether imagevet judges
    it or not: what makes a CIS report complete (the recommendations imagevet has no check for are shown
    as left to people, not left out)."""

    id: str
    title: str
    manual: bool  # CIS rates it "Manual": it asks for a site's own judgement, not a value
    ssg_rules: tuple[str, ...]  # the SSG rules ComplianceAsCode maps to it (what OpenSCAP would check)


def parse_listed(name: str, data: Any) -> tuple[Listed, ...]:
    """The recommendations of one ``cis-l1-<benchmark>.yaml``; DataError naming the file otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("recommendations"), list):
        raise DataError(f"{name}: top level must have a 'recommendations' list")
    listed: list[Listed] = []
    for index, raw in enumerate(data["recommendations"], 1):
        if (
            not isinstance(raw, dict)
            or set(raw) != {"id", "title", "kind", "ssg"}
            or not all(isinstance(raw[key], str) for key in ("id", "title", "kind"))
            or raw["kind"] not in ("automated", "manual")
            or not isinstance(raw["ssg"], list)
            or not all(isinstance(rule, str) for rule in raw["ssg"])
        ):
            raise DataError(
                f"{name}: recommendation {index} needs exactly id, title, kind (automated or manual) "
                "and ssg (a list of rule ids)"
            )
        listed.append(Listed(raw["id"], raw["title"], raw["kind"] == "manual", tuple(raw["ssg"])))
    if len({item.id for item in listed}) != len(listed):
        raise DataError(f"{name}: a recommendation number is listed twice")
    return tuple(listed)


@functools.cache
def level1_server(benchmark_key: str) -> tuple[Listed, ...]:
    """Every Level 1 (server) recommendation of the benchmark, in its order; () where imagevet carries no
    list for it. Read only by `imagevet compliance`, not by every audit."""
    name = f"cis-l1-{benchmark_key}.yaml"
    folder = packaged.folder("imagevet.checks")
    if not (folder / name).is_file():
        return ()
    return parse_listed(name, knowledge.safe_yaml((folder / name).read_text(encoding="utf-8")))


def benchmark_for(os: OsRelease | None) -> Benchmark | None:
    """The CIS benchmark whose numbers apply to this image, if imagevet carries one for it. Only that one
    is parsed (every audit asks, and four benchmarks' 500 mappings cost it a few ms, issue 19); the others
    are validated where all are read (builtin_benchmarks: `imagevet compliance`, the tests)."""
    for key, entry in _entries(_builtin_data()).items():
        if _benchmark(key, entry, None).applies_to(os):
            return _applying(key)
    return None


@functools.cache
def _applying(key: str) -> Benchmark:
    return _benchmark(key, _entries(_builtin_data())[key], _known_checks())
