"""The command line as a user meets it: exit codes, one-line errors, waivers, output files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagevet.checks.registry import CHECKS
from tests.conftest import FIXTURES

HARDENED = str(FIXTURES / "rootfs/hardened-debian")
WEAK = str(FIXTURES / "rootfs/weak-rocky9")
AS_OF = "--as-of=2026-11-28"


@pytest.fixture(scope="module", autouse=True)
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh advisory database covering Debian:12 (the hardened image's ecosystem), made by the CLI from
    the project's OSV fixtures: without one, updates-pending-security is undecided and trips the gate."""
    database = tmp_path_factory.mktemp("advisories") / "osv.sqlite3"
    previous = os.environ.get("IMAGEVET_DB")
    os.environ["IMAGEVET_DB"] = str(database)
    assert run("db", "import", str(FIXTURES / "osv")).returncode == 0
    yield database
    if previous is None:
        os.environ.pop("IMAGEVET_DB", None)
    else:
        os.environ["IMAGEVET_DB"] = previous


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagevet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("imagevet: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_clean_image_exits_zero_with_gate_at_high() -> None:
    proc = run("audit", HARDENED, AS_OF)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "os-support-window" in proc.stdout and "summary:" in proc.stdout


def test_medium_failure_trips_a_medium_gate() -> None:
    assert run("audit", HARDENED, AS_OF, "--fail-on", "medium").returncode == 1
    assert run("audit", HARDENED, AS_OF, "--fail-on", "medium", "--lifecycle-years", "1").returncode == 0


def test_weak_image_fails_and_never_gate_passes() -> None:
    assert run("audit", WEAK, AS_OF).returncode == 1
    assert run("audit", WEAK, AS_OF, "--fail-on", "never").returncode == 0


def test_json_document_shape() -> None:
    proc = run("audit", WEAK, AS_OF, "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "imagevet/audit/v1"
    assert doc["os"] == {
        "id": "rocky",
        "version_id": "9.3",
        "name": "Rocky Linux",
        "pretty_name": "Rocky Linux 9.3 (Blue Onyx)",
        "family": "rhel",
    }
    assert doc["target"] == {"path": WEAK, "kind": "rootfs"}
    # The database covers Debian:12 only: Rocky Linux:9's pending updates cannot be decided.
    assert doc["summary"] == {"pass": 7, "fail": 8, "skip": 2, "error": 1, "waived": 0}  # os-variant passes
    assert doc["gate"]["undecided"] == ["updates-pending-security"] and not doc["gate"]["passed"]
    result = next(r for r in doc["results"] if r["check"] == "ssh-root-login")
    assert result["status"] == "fail" and result["severity"] == "high"
    assert result["evidence"] == [
        {"detail": "permitrootlogin yes", "path": "/etc/ssh/sshd_config", "line": 3}
    ]
    assert result["remediation"][0]["kind"] == "file"


def test_checks_option_limits_the_run() -> None:
    doc = json.loads(run("audit", WEAK, AS_OF, "-f", "json", "--checks", "os-lts,ssh-empty-passwords").stdout)
    assert [r["check"] for r in doc["results"]] == ["ssh-empty-passwords", "os-lts"]


def test_waivers(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - check: ssh-root-login\n    reason: break-glass access, ticket OPS-1\n    expires: 2027-01-31\n"
        "  - check: ssh-password-auth\n    reason: expired one\n    expires: 2025-01-01\n"
        "  - check: no-such-check\n    reason: typo\n"
    )
    proc = run("audit", WEAK, AS_OF, "-f", "json", "--waivers", str(waivers))
    doc = json.loads(proc.stdout)
    statuses = {r["check"]: r["status"] for r in doc["results"]}
    assert statuses["ssh-root-login"] == "waived" and statuses["ssh-password-auth"] == "fail"
    assert "expired on 2025-01-01" in proc.stderr and "unknown check 'no-such-check'" in proc.stderr
    waived = next(r for r in doc["results"] if r["check"] == "ssh-root-login")
    assert waived["waiver"] == {"reason": "break-glass access, ticket OPS-1", "expires": "2027-01-31"}


def test_waiver_lifts_the_gate(tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - check: os-support-window\n    reason: migrating to 13 in Q2\n")
    assert run("audit", HARDENED, AS_OF, "--fail-on", "medium", "--waivers", str(waivers)).returncode == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("waivers:\n  - check: ssh-root-login\n", "reason"),
        ("waivers: [\n", "not valid YAML"),
        ("waivers:\n  - check: ssh-root-login\n    reason: x\n    expires: someday\n", "YYYY-MM-DD"),
        ("- just a string\n", "mapping"),
        ("other: 1\n", "only top-level key"),
    ],
)
def test_malformed_waivers_are_errors(tmp_path: Path, content: str, fragment: str) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text(content)
    assert_one_line_error(run("audit", WEAK, "--waivers", str(waivers)), fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["audit", "/nonexistent/root"], "does not exist"),
        (["audit", HARDENED, "--as-of", "2026-13-01"], "YYYY-MM-DD"),
        (["audit", HARDENED, "--checks", "nope"], "unknown check"),
        (["audit", HARDENED, "--format", "xml"], "xml"),
        (["audit", HARDENED, "--fail-on", "severe"], "severe"),
        (["audit", HARDENED, "--lifecycle-years", "-1"], "--lifecycle-years"),
        (["audit", HARDENED, "--bogus"], "--bogus"),
        (["audit"], "TARGET"),
        (["audit", HARDENED, "--waivers", "/nonexistent/w.yaml"], "cannot read waiver file"),
        (["nonsense"], "nonsense"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    assert_one_line_error(run(*args), fragment)


def test_output_file_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    proc = run("audit", HARDENED, AS_OF, "-f", "json", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text())["schema"] == "imagevet/audit/v1"
    # A failed run (bad target) must leave the previous report untouched.
    out.write_text("previous report\n")
    assert run("audit", "/nonexistent", "-o", str(out)).returncode == 2
    assert out.read_text() == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_to_a_directory_is_an_error(tmp_path: Path) -> None:
    assert_one_line_error(run("audit", HARDENED, "-o", str(tmp_path)), "is a directory")


def test_checks_command_lists_metadata() -> None:
    proc = run("checks")
    assert proc.returncode == 0 and "ssh-password-auth" in proc.stdout
    doc = json.loads(run("checks", "--format", "json").stdout)
    assert doc["schema"] == "imagevet/checks/v1" and [c["id"] for c in doc["checks"]] == list(CHECKS)
    assert all(c["references"] and c["remediation"] for c in doc["checks"])


def test_version_and_no_args() -> None:
    assert run("--version").stdout.startswith("imagevet ")
    proc = run()
    assert proc.returncode == 2 and "audit" in proc.stderr


def test_audit_of_this_host_runs() -> None:
    proc = run("audit", "/", "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["target"]["kind"] == "host" and len(doc["results"]) == 18


@pytest.mark.parametrize(
    "as_of", ["20261128", "2026-W48-1", "2026-02-30", "2026-13-01", "２０２６-１１-２８", "2026-11-28T10:00"]
)
def test_as_of_is_exactly_a_calendar_day(as_of: str) -> None:
    assert_one_line_error(run("audit", HARDENED, "--as-of", as_of), "is not a YYYY-MM-DD date")


@pytest.mark.parametrize("option", ["--waivers", "--inventory"])
def test_endless_or_binary_user_files_are_refused_without_echo(tmp_path: Path, option: str) -> None:
    target = [] if option == "--inventory" else [HARDENED]
    proc = run("audit", *target, option, "/dev/zero")
    assert_one_line_error(proc, "is larger than")
    binary = tmp_path / "w.yaml"
    binary.write_bytes(b"waivers:\n  - check: \xff\xfeSECRET\n")
    proc = run("audit", *target, option, str(binary))
    assert_one_line_error(proc, "is not UTF-8 text (byte")
    assert "SECRET" not in proc.stderr


def test_min_cloud_init_sets_the_floor() -> None:
    """cloudinit-version: 22.1 by default (the guide's), --min-cloud-init X.Y sets another; a malformed
    value is a usage error (one line, exit 2) before anything is read."""
    weak = [WEAK, AS_OF, "--checks", "cloudinit-version", "-f", "json", "--fail-on", "never"]

    def judged(*extra: str) -> tuple[str, str]:
        result = run("audit", *weak, *extra)
        assert result.returncode == 0, result.stderr
        (found,) = json.loads(result.stdout)["results"]
        return found["status"], found["evidence"][0]["detail"]

    assert judged() == (
        "fail",
        "cloud-init 21.1 (from /usr/lib/python3.9/site-packages/cloudinit/version.py); required >= 22.1",
    )
    status, detail = judged("--min-cloud-init", "19.4")
    assert status == "pass" and detail.endswith("required >= 19.4")
    for bad in ("22", "latest", "22.1; rm -rf /", "２２.１"):
        result = run("audit", *weak, "--min-cloud-init", bad)
        assert result.returncode == 2 and "--min-cloud-init" in result.stderr, bad
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
