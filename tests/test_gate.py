"""The gate: a check that could not be decided (``error``) at or above --fail-on fails the run like a failed
one, unless --allow-errors; a waiver covers a check's error as well as its failure; the summary names what
tripped the gate. Run through the CLI as a CI job would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import AS_OF, AS_OF_DAY, FIXTURES
from tests.support.advisories import import_records
from tests.support.cli import run_imagevet

HARDENED = str(FIXTURES / "rootfs/hardened-debian")
PENDING = ("--checks", "updates-pending-security")


def test_an_undecided_check_fails_the_run_and_is_named(tmp_path: Path) -> None:
    proc = run_imagevet("audit", HARDENED, AS_OF, *PENDING, "--db", str(tmp_path / "none.sqlite3"))
    assert proc.returncode == 1
    assert "gate: FAILED (--fail-on high): could not be decided: updates-pending-security" in proc.stdout
    stderr = proc.stderr.strip().splitlines()
    assert stderr[0].startswith(
        "imagevet: updates-pending-security could not be decided: no advisory database"
    )
    assert "imagevet db update" in stderr[0]
    assert "fail the gate (updates-pending-security)" in stderr[-1] and "--allow-errors" in stderr[-1]


def test_allow_errors_and_a_higher_threshold_let_it_pass(tmp_path: Path) -> None:
    args = ("audit", HARDENED, AS_OF, *PENDING, "--db", str(tmp_path / "none.sqlite3"))
    allowed = run_imagevet(*args, "--allow-errors", "-f", "json")
    assert allowed.returncode == 0
    gate = json.loads(allowed.stdout)["gate"]
    assert gate == {"fail_on": "high", "allow_errors": True, "passed": True, "failed": [], "undecided": []}
    above = run_imagevet(*args, "--fail-on", "critical")
    assert above.returncode == 0 and "below --fail-on, or --allow-errors" in above.stderr
    assert "gate: passed (--fail-on critical)" in above.stdout
    assert run_imagevet(*args, "--fail-on", "never").returncode == 0


def test_a_waiver_covers_an_error(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - check: updates-pending-security\n    reason: scanned by the registry\n"
        "    expires: 2099-01-01\n"
    )
    proc = run_imagevet(
        "audit", HARDENED, AS_OF, *PENDING, "--db", str(tmp_path / "none.sqlite3"), "--waivers", str(waivers),
        "-f", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == "waived" and result["waiver"]["reason"] == "scanned by the registry"
    assert "no advisory database" in result["evidence"][0]["detail"]  # the reason stays visible


@pytest.fixture
def no_aws_credentials(tmp_path: Path) -> dict[str, str]:
    """An environment in which boto3 finds no credentials at all, and asks no metadata service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def test_source_official_without_credentials_trips_the_gate(
    tmp_path: Path, no_aws_credentials: dict[str, str]
) -> None:
    database = tmp_path / "osv.sqlite3"
    import_records(database)
    args = (
        "audit",
        HARDENED,
        AS_OF,
        "--db",
        str(database),
        "--cloud",
        "aws",
        "--image-id",
        "ami-0a1b2c3d4e5f60001",
    )
    proc = run_imagevet(*args, "-f", "json", env=no_aws_credentials)
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    result = next(r for r in document["results"] if r["check"] == "source-official")
    assert result["status"] == "error" and "no AWS credentials" in result["evidence"][0]["detail"]
    assert document["gate"]["undecided"] == ["source-official"] and document["gate"]["failed"] == []
    assert run_imagevet(*args, "--allow-errors", env=no_aws_credentials).returncode == 0


def test_the_fleet_document_uses_each_report_gate() -> None:
    """Fleet summaries judge each host's report by the gate it was audited with."""
    from imagevet.audit import run_audit
    from imagevet.checks.base import CheckOptions
    from imagevet.fleet import Host, HostResult
    from imagevet.model import Gate, Severity
    from imagevet.report.fleet import fleet_document
    from imagevet.target.rootfs import RootfsTarget

    def host(gate: Gate) -> HostResult:
        options = CheckOptions(AS_OF_DAY)
        report = run_audit(RootfsTarget(HARDENED), options, ["updates-pending-security"], None, None, gate)
        return HostResult(Host("web-01", "ssh://web-01"), report=report)

    strict = fleet_document([host(Gate(Severity.HIGH))])
    assert strict["hosts"][0]["gate_failures"] == ["updates-pending-security"]
    assert strict["summary"]["failing_gate"] == 1
    lenient = fleet_document([host(Gate(Severity.HIGH, allow_errors=True))])
    assert lenient["hosts"][0]["gate_failures"] == [] and lenient["summary"]["failing_gate"] == 0


def test_compliance_names_undecided_controls_and_they_fail_the_run(tmp_path: Path) -> None:
    args = ("compliance", HARDENED, "--framework", "mlps-l3", AS_OF, "--db", str(tmp_path / "none.sqlite3"))
    proc = run_imagevet(*args, "-f", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["coverage"]["undecided"] == 1
    assert "updates-pending-security could not be decided: no advisory database" in proc.stderr
    assert "1 control(s) could not be decided and fail the run" in proc.stderr
    allowed = run_imagevet(*args, "--allow-errors")
    assert "1 control(s) could not be decided\n" in allowed.stderr  # reported, not counted against the run


def test_push_needs_its_cloud_before_any_work() -> None:
    proc = run_imagevet(
        "audit",
        HARDENED,
        "--push",
        "http://127.0.0.1:9",
        "--token",
        "t",
        "--image-id",
        "ami-0a1b2c3d4e5f60001",
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert (
        proc.stderr.strip()
        == "imagevet: error: --push needs --cloud (aws, azure, alibaba, tencent, gcp, onprem)"
    )
