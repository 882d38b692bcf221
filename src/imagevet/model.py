"""Frozen value types shared by every layer: facts, check outcomes and the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How much a failed check or a vulnerability matters; ordered from ``info`` to ``critical``.

    The one severity scale of every report: its order, the SARIF level and GitHub ``security-severity``
    score it maps to, and its terminal style are all read from here, so no renderer spells them again.
    Advisories without a severity are labelled ``unknown`` by the matcher (Trivy's word); on this scale
    they are the lowest grade, ``info`` (``Severity.of("unknown")``)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def sarif_level(self) -> str:
        """SARIF ``level``: high and critical are errors, medium a warning, the rest notes."""
        return _GRADES[self][0]

    @property
    def security_severity(self) -> str:
        """The CVSS-like score GitHub code scanning reads from ``properties.security-severity``."""
        return _GRADES[self][1]

    @property
    def style(self) -> str:
        """The Rich style of the severity in tables."""
        return _GRADES[self][2]

    @staticmethod
    def of(label: str) -> Severity:
        """The grade of a severity label, case-insensitive; ``unknown`` (an advisory without one) is
        ``info``. ValueError for anything else."""
        folded = label.strip().lower()
        return Severity.INFO if folded == UNKNOWN_SEVERITY else Severity(folded)


UNKNOWN_SEVERITY = "unknown"
_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
# severity: (SARIF level, security-severity score, table style)
_GRADES = {
    Severity.INFO: ("note", "0.0", "dim"),
    Severity.LOW: ("note", "3.0", "cyan"),
    Severity.MEDIUM: ("warning", "5.5", "yellow"),
    Severity.HIGH: ("error", "8.0", "bold red"),
    Severity.CRITICAL: ("error", "9.5", "bold white on red"),
}


class Status(StrEnum):
    """A check result: ``waived`` is a failure covered by a valid waiver."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"
    WAIVED = "waived"


@dataclass(frozen=True)
class Unknown:
    """A fact that could not be established, and why (missing file, unreadable, malformed ...)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Evidence:
    """One observation behind an outcome, with the image file and line it came from when known."""

    detail: str
    path: str | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        """``path:line`` (or the path, or "" when the observation has no file)."""
        if self.path is None:
            return ""
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return self.detail if self.path is None else f"{self.detail} ({self.where})"


@dataclass(frozen=True)
class Outcome:
    """What a check predicate decided, before metadata and waivers are attached."""

    status: Status
    evidence: tuple[Evidence, ...] = ()

    @staticmethod
    def of(status: Status, *items: Evidence | str) -> Outcome:
        return Outcome(status, tuple(i if isinstance(i, Evidence) else Evidence(i) for i in items))


@dataclass(frozen=True)
class OsRelease:
    """Identity of the operating system in the image, from os-release(5)."""

    id: str
    version_id: str
    name: str
    pretty_name: str
    variant: str
    version_codename: str
    id_like: tuple[str, ...]
    family: str
    source: str
    variant_id: str = (
        ""  # VARIANT_ID: lower-case word naming the edition (server, container ...), "" when unset
    )


@dataclass(frozen=True)
class Package:
    """An installed package as recorded by the image's package database.

    ``version`` is the full version in the scheme's own syntax, ready for comparison: dpkg's
    ``[epoch:]upstream[-revision]``, rpm's ``[epoch:]version-release``, apk's ``version-rN``.
    """

    name: str
    version: str
    arch: str
    source: str
    source_version: str
    type: str = "deb"  # deb | rpm | apk
    epoch: int | None = None
    release: str = ""
    license: str = ""
    purl: str = ""


@dataclass(frozen=True)
class RemediationStep:
    """One concrete step of a fix: a shell command, or a file to write with its exact content."""

    kind: str  # "command" | "file" | "note"
    text: str  # the command, the file content, or the advice
    path: str | None = None
    description: str = ""
    when: str = ""  # "running": only on a booted system (service reloads, sysctl --system), not in an image


@dataclass(frozen=True)
class Waiver:
    """An accepted risk: a failing check that must not trip the gate until ``expires``."""

    check: str
    reason: str
    expires: dt.date | None = None


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome joined with its metadata, ready to render."""

    check: str
    title: str
    severity: Severity
    status: Status
    evidence: tuple[Evidence, ...]
    remediation: tuple[RemediationStep, ...]
    rationale: str
    references: tuple[str, ...]
    waiver: Waiver | None = None


@dataclass(frozen=True)
class ImageConfig:
    """A container image's configuration, as its config JSON records it."""

    user: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[str, ...]
    history: int  # number of history entries (layers' creation steps)


@dataclass(frozen=True)
class SourceInfo:
    """Where a remote disk image was read from (an AMI's EBS snapshot, an HTTP URL) and what reading it
    cost so far: requests made, bytes fetched and bytes served from the local block cache. ``details``
    are the source's own identifiers (AMI id, snapshot id, owner, region; ETag, Last-Modified)."""

    kind: str  # "ebs" | "http"
    location: str  # never a secret: a signed URL's query is left out
    size: int
    block_size: int
    requests: int
    fetched_bytes: int
    cached_bytes: int
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TargetInfo:
    """What was audited: the path given, the kind of target it was opened as, a container's config, and
    for a remote disk image where it was read from."""

    path: str
    kind: str
    image: ImageConfig | None = None
    source: SourceInfo | None = None


@dataclass(frozen=True)
class Gate:
    """How results decide the exit code: a check that failed, or could not be decided (``error``), at or
    above ``fail_on`` trips the gate; errors only do not with ``allow_errors``. ``fail_on`` None: never."""

    fail_on: Severity | None = Severity.HIGH
    allow_errors: bool = False

    def trips(self, result: CheckResult) -> bool:
        if self.fail_on is None or result.severity.rank < self.fail_on.rank:
            return False
        return result.status is Status.FAIL or (result.status is Status.ERROR and not self.allow_errors)


@dataclass(frozen=True)
class Report:
    """The whole result of an audit: the one model every renderer reads."""

    target: TargetInfo
    os: OsRelease | None
    results: tuple[CheckResult, ...]
    as_of: dt.date
    tool_version: str
    notices: tuple[str, ...] = field(default=())
    gate: Gate = field(default=Gate())

    def summary(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def gate_failures(self) -> list[CheckResult]:
        """Results that trip the gate: failed, or undecided unless errors are allowed (never waived ones)."""
        return [r for r in self.results if self.gate.trips(r)]


# The clouds imagevet knows (catalog images, publishers, readiness checks, provenance adapters): here, in
# the model every layer already imports, so that a command's help can name them without loading the catalog.
CLOUDS = ("aws", "azure", "alibaba", "tencent", "gcp")
