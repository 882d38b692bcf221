"""The checks over every file (checks/file_walk.py) on roots made here: what each names, and that a walk
or an account database that cannot be read is an error, never a pass."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget, walk_local
from tests.checks.cases import AS_OF, ROOTFS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
CHECKS = ["file-perms-world-writable", "file-perms-sticky-dirs", "file-perms-unowned", "file-perms-ungrouped"]


def audit(root: Path) -> dict[str, tuple[Status, list[str]]]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), CHECKS)
    return {r.check: (r.status, [str(e) for e in r.evidence]) for r in report.results}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOTFS / "hardened-debian", root, symlinks=True)
    (root / "etc/group").write_text("root:x:0:\nsshd:x:101:\n")  # hardened-debian has none
    for directory, _, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, f) for f in files)]:
            os.lchown(name, 0, 0)
    return root


def test_a_clean_root_passes_all_four(root: Path) -> None:
    assert {check: status for check, (status, _) in audit(root).items()} == dict.fromkeys(CHECKS, Status.PASS)


def test_each_check_names_what_it_found(root: Path) -> None:
    (root / "srv/drop").mkdir(parents=True)
    (root / "srv/drop").chmod(0o777)
    (root / "srv/notes").write_text("x\n")
    (root / "srv/notes").chmod(0o666)
    os.lchown(root / "srv/notes", 4242, 4343)
    (root / "srv/\x1b[31mred").write_text("x\n")
    (root / "srv/\x1b[31mred").chmod(0o606)
    found = audit(root)
    assert found["file-perms-world-writable"] == (
        Status.FAIL,
        [
            "world-writable file (mode 0606) (/srv/\\x1b[31mred)",
            "world-writable file (mode 0666) (/srv/notes)",
        ],
    )
    assert found["file-perms-sticky-dirs"] == (
        Status.FAIL,
        ["world-writable directory without the sticky bit (mode 0777) (/srv/drop)"],
    )
    assert found["file-perms-unowned"] == (
        Status.FAIL,
        ["owned by uid 4242, which /etc/passwd does not list (/srv/notes)"],
    )
    assert found["file-perms-ungrouped"][1] == ["group gid 4343, which /etc/group does not list (/srv/notes)"]


def test_many_hits_are_counted_not_all_named(root: Path) -> None:
    for number in range(25):
        (root / f"srv/{number:02}").parent.mkdir(exist_ok=True)
        (root / f"srv/{number:02}").write_text("x\n")
        (root / f"srv/{number:02}").chmod(0o666)
    status, evidence = audit(root)["file-perms-world-writable"]
    assert status is Status.FAIL and len(evidence) == 21 and evidence[-1] == "and 5 more"


def test_without_a_readable_passwd_owners_are_an_error(root: Path) -> None:
    (root / "etc/passwd").unlink()
    (root / "etc/passwd").mkdir()
    found = audit(root)
    assert found["file-perms-unowned"][0] is Status.ERROR
    assert found["file-perms-ungrouped"][0] is Status.PASS  # /etc/group is read apart
    assert found["file-perms-world-writable"][0] is Status.PASS  # the modes are still judged


def test_without_a_group_file_only_the_groups_are_an_error(root: Path) -> None:
    (root / "etc/group").unlink()
    os.lchown(root / "etc/passwd", 4242, 0)
    found = audit(root)
    assert found["file-perms-ungrouped"] == (
        Status.ERROR,
        ["the groups the image knows are not known: /etc/group: /etc/group does not exist in the image"],
    )
    assert found["file-perms-unowned"][0] is Status.FAIL


def test_a_malformed_passwd_line_makes_owners_an_error(root: Path) -> None:
    with (root / "etc/passwd").open("a") as handle:
        handle.write("broken:x:notanumber:0::/:/bin/sh\n")
    status, evidence = audit(root)["file-perms-unowned"]
    assert status is Status.ERROR and "not known" in evidence[0]


def test_a_walk_that_cannot_run_is_an_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk_local, "FIND_PROGRAMS", ("/nonexistent/find",))
    assert {status for status, _ in audit(root).values()} == {Status.ERROR}
