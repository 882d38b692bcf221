"""The ratio benchmarks of issue 19 (benchmarks/floor.py, benchmarks/openscap_ratio.py) still run and still
print their verdicts: docs/benchmarks.md records their output, and a script that broke would only be found
when someone next measures. One round on the small fixture root keeps these tests to seconds; the numbers
themselves are not asserted (the machines are shared)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, PROJECT
from tests.support.openscap import openscap_available

SYSTEM_SSG = Path("/usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml")  # benchmarks/openscap/run.sh's

ROOT = FIXTURES / "rootfs" / "hardened-debian"


def bench(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    return subprocess.run(
        [sys.executable, str(PROJECT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=timeout,
    )


def test_floor_prints_every_command_and_the_ratio_verdicts() -> None:
    proc = bench("floor.py", "--runs", "1", "--root", str(ROOT), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "byte-compiled" in proc.stdout
    for command in ("python -c pass", "imagevet --version", "imagevet recommend"):
        assert command in proc.stdout
    ratios = re.findall(
        r"^ratio imagevet .* / F = \d+\.\d\d \(target <= 3\): (?:PASS|FAIL)$", proc.stdout, re.M
    )
    assert len(ratios) == 2, proc.stdout
    assert re.search(
        r"^peak RSS .*--profile all.* = [\d.]+ MB \(target <= 40 MB\): (PASS|FAIL)$", proc.stdout, re.M
    )


@pytest.mark.parametrize("script", ["floor.py", "openscap_ratio.py"])
def test_help_lists_the_options(script: str) -> None:
    proc = bench(script, "--help", timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "--runs" in proc.stdout and "--root" in proc.stdout


@pytest.mark.real
def test_openscap_ratio_prints_both_tools_and_the_verdict() -> None:
    if not openscap_available() or not SYSTEM_SSG.is_file() or os.geteuid() != 0:
        pytest.skip("needs root, openscap-utils and ssg-debderived")
    proc = bench("openscap_ratio.py", "--runs", "1", "--root", str(ROOT), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^imagevet audit --profile all: median [\d.]+ s", proc.stdout, re.M), proc.stdout
    assert re.search(
        r"^OpenSCAP ubuntu2204-cis_level1_server: median .* pass=\d+ fail=\d+", proc.stdout, re.M
    )
    verdict = r"^ratio OpenSCAP / imagevet = [\d.]+ \(target: imagevet at least 40x faster\): (PASS|FAIL)$"
    assert re.search(verdict, proc.stdout, re.M), proc.stdout


def test_run_sh_refuses_an_unknown_profile(tmp_path: Path) -> None:
    """openscap_ratio.py selects one profile by name: a misspelt name must stop run.sh, not evaluate all."""
    if os.geteuid() != 0:
        pytest.skip("run.sh runs as root only")
    proc = subprocess.run(
        ["bash", str(PROJECT / "benchmarks" / "openscap" / "run.sh"), str(ROOT), "no-such-profile"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        timeout=30,
    )
    assert proc.returncode == 1 and "no profile named no-such-profile" in proc.stderr


def test_startup_parts_prints_each_part_of_one_audit() -> None:
    proc = bench("startup_parts.py", "--runs", "1", "--root", str(ROOT), timeout=60)
    assert proc.returncode == 0, proc.stderr
    for part in ("cli and its parse", "audit imports", "first audit", "warm audit", "total"):
        assert re.search(rf"^{part} +[0-9.]+ ms", proc.stdout, re.M), proc.stdout
