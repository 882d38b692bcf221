"""`imagevet harden` for the home and dot-file checks, applied for real in a chroot copy of the debootstrap
root where the image's own useradd made two accounts and their homes were then loosened (one home never
made): the re-audit passes both checks, a second run changes nothing, and a .rhosts is left for review,
never deleted."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real
CHECKS = ["accounts-home-dirs", "accounts-dot-files"]


def homes_state(root: Path) -> dict[str, tuple[int, int, int, str]]:
    state = {}
    for path in sorted((root / "home").rglob("*")):  # the homes themselves, and everything in them
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state[str(path)] = (info.st_mode, info.st_uid, info.st_gid, digest)
    return state


@pytest.fixture
def loose_homes(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    for command in (["useradd", "-m", "-s", "/bin/bash", "bob"], ["useradd", "-M", "-s", "/bin/sh", "eve"]):
        made = chroot(root, *command)
        assert made.returncode == 0, made.stderr
    bob = root / "home/bob"
    bob.chmod(0o775)
    (bob / ".bashrc").chmod(0o666)
    os.chown(bob / ".profile", 0, 0)
    (bob / ".netrc").write_text("machine example.org login bob password x\n")
    (bob / ".netrc").chmod(0o644)
    return root


def test_the_script_fixes_homes_and_dot_files_and_a_second_run_changes_nothing(loose_homes: Path) -> None:
    before = run_audit(RootfsTarget(str(loose_homes)), CheckOptions(AS_OF), CHECKS)
    assert [r.status for r in before.results] == [Status.FAIL, Status.FAIL]
    script = loose_homes / "imagevet-harden.sh"
    made = run_imagevet("harden", str(loose_homes), "--checks", ",".join(CHECKS), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    first = chroot(loose_homes, "/imagevet-harden.sh")
    assert first.returncode == 0, first.stdout + first.stderr
    after = run_audit(RootfsTarget(str(loose_homes)), CheckOptions(AS_OF), CHECKS)
    assert [r.status for r in after.results] == [Status.PASS, Status.PASS], [
        r.evidence for r in after.results
    ]
    eve = (loose_homes / "home/eve").stat()
    assert eve.st_mode & 0o777 == 0o750 and eve.st_uid != 0
    state = homes_state(loose_homes)
    second = chroot(loose_homes, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stderr
    assert homes_state(loose_homes) == state


def test_a_rhosts_is_left_for_review(loose_homes: Path) -> None:
    rhosts = loose_homes / "home/bob/.rhosts"
    rhosts.write_text("+ +\n")
    script = loose_homes / "imagevet-harden.sh"
    made = run_imagevet("harden", str(loose_homes), "--checks", "accounts-dot-files", "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert chroot(loose_homes, "/imagevet-harden.sh").returncode == 0
    assert rhosts.read_text() == "+ +\n"
    after = run_audit(RootfsTarget(str(loose_homes)), CheckOptions(AS_OF), ["accounts-dot-files"])
    assert after.results[0].status is Status.FAIL
    assert any(".rhosts exists" in e.detail for e in after.results[0].evidence)
