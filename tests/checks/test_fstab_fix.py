"""The mount-option fix (checks/fstab_fix.py) run for real: /bin/sh and this machine's awk (Debian's mawk,
as in the images) on a scratch root whose /etc/fstab is written by each test. Every result is read back
with the same reader the audit uses (facts/mounts.py and values.has_option), and a second run must leave
the file byte for byte, owner and mode as they were."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from imagevet.checks.fstab_fix import fstab_option_command
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.values import has_option
from imagevet.errors import DataError
from imagevet.facts.mounts import parse_fstab


def run_fix(root: Path, mount: str, option: str) -> subprocess.CompletedProcess[str]:
    """The command as a harden script runs it, with /etc made relative to ``root``."""
    command = fstab_option_command(mount, option).replace("/etc/fstab", f"{root}/etc/fstab")
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    return tmp_path


def write_fstab(root: Path, text: str, mode: int = 0o644) -> Path:
    fstab = root / "etc/fstab"
    fstab.write_text(text)
    fstab.chmod(mode)
    return fstab


def options_of(fstab: Path, mount: str) -> tuple[str, ...]:
    entries = [e for e in parse_fstab(fstab.read_text()) if e.mountpoint == mount]
    return entries[-1].options


LOOSE = (
    "# /etc/fstab: static file system information.\n"
    "UUID=1 / ext4 errors=remount-ro 0 1\n"
    "UUID=2  /tmp/  ext4  defaults,dev   0 2\n"
    "tmpfs //var/tmp tmpfs exec\n"
    "UUID=3 /home ext4\n"
    "# UUID=4 /tmp ext4 defaults 0 2\n"
)


@pytest.mark.parametrize(
    ("mount", "option"),
    [("/tmp", "nodev"), ("/tmp", "noexec"), ("/var/tmp", "noexec"), ("/home", "nosuid"), ("/home", "nodev")],
)
def test_the_option_then_holds_as_mount_reads_it_and_a_second_run_changes_nothing(
    root: Path, mount: str, option: str
) -> None:
    fstab = write_fstab(root, LOOSE, 0o640)
    first = run_fix(root, mount, option)
    assert first.returncode == 0, first.stderr
    assert has_option(options_of(fstab, mount), option)
    after = fstab.read_bytes()
    others = [line for line in LOOSE.splitlines() if line not in after.decode().splitlines()]
    assert len(others) == 1  # only the mount point's own line changed; the comment naming /tmp did not
    assert fstab.stat().st_mode & 0o777 == 0o640
    second = run_fix(root, mount, option)
    assert second.returncode == 0 and fstab.read_bytes() == after
    assert sorted(os.listdir(root / "etc")) == ["fstab"]  # no temporary file left


def test_every_option_of_one_line_converges_whatever_the_order(root: Path) -> None:
    fstab = write_fstab(root, LOOSE)
    for option in ("nodev", "nosuid", "noexec", "nodev"):
        assert run_fix(root, "/tmp", option).returncode == 0
    assert options_of(fstab, "/tmp") == ("defaults", "nodev", "nosuid", "noexec")
    once = fstab.read_bytes()
    for option in ("noexec", "nosuid", "nodev"):  # each already holds: the line is left as it is
        assert run_fix(root, "/tmp", option).returncode == 0
        assert fstab.read_bytes() == once


def test_a_line_where_the_option_already_holds_is_left_as_written(root: Path) -> None:
    fstab = write_fstab(root, "a /tmp  tmpfs  nodev,dev,nodev,size=1G  0 0\nb /var tmpfs nodev,defaults\n")
    assert run_fix(root, "/tmp", "nodev").returncode == 0
    assert fstab.read_text().splitlines()[0] == "a /tmp  tmpfs  nodev,dev,nodev,size=1G  0 0"
    assert run_fix(root, "/var", "nodev").returncode == 0  # defaults after nodev undid it
    assert options_of(fstab, "/var") == ("defaults", "nodev")


def test_every_line_of_the_mount_point_is_fixed_and_a_line_without_a_type_is_left(root: Path) -> None:
    fstab = write_fstab(root, "a /var ext4 defaults 0 2\nb /var ext4 suid 0 2\nc /var\n")
    assert run_fix(root, "/var", "nosuid").returncode == 0
    lines = fstab.read_text().splitlines()
    assert lines[0].split()[3] == "defaults,nosuid" and lines[1].split()[3] == "nosuid"
    assert lines[2] == "c /var"


def test_no_fstab_is_left_missing(root: Path) -> None:
    assert run_fix(root, "/tmp", "nodev").returncode == 0
    assert not (root / "etc/fstab").exists()


def test_a_link_at_etc_fstab_is_a_failure_and_stays_a_link(root: Path) -> None:
    """A link is not replaced by a file (imagevet_write refuses it too): it may be how the image shares
    one fstab, and the rename would silently cut it."""
    (root / "fstab.real").write_text(LOOSE)
    (root / "etc/fstab").symlink_to(root / "fstab.real")
    proc = run_fix(root, "/tmp", "nodev")
    assert proc.returncode != 0 and "is a link; left as it is" in proc.stderr
    assert (root / "etc/fstab").is_symlink() and (root / "fstab.real").read_text() == LOOSE
    assert sorted(os.listdir(root / "etc")) == ["fstab"]


def test_a_link_planted_where_a_temporary_could_be_is_never_written_through(root: Path) -> None:
    """The copy is a new file made by mktemp, so a link at a guessable name (an image's planted
    /etc/fstab.imagevet-new pointing at /etc/shadow) is not followed."""
    write_fstab(root, LOOSE)
    victim = root / "shadow"
    victim.write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/fstab.imagevet-new").symlink_to(victim)
    assert run_fix(root, "/tmp", "nodev").returncode == 0
    assert victim.read_text() == "root:*:19000:0:99999:7:::\n"
    assert has_option(options_of(root / "etc/fstab", "/tmp"), "nodev")


@pytest.mark.parametrize(("mount", "option"), [("tmp", "nodev"), ("/tmp; rm -rf /", "nodev"), ("/tmp", "ro")])
def test_only_a_plain_mount_point_and_a_cis_option_make_a_command(mount: str, option: str) -> None:
    with pytest.raises(DataError):
        fstab_option_command(mount, option)


def test_every_mount_option_row_is_fixed_by_the_command_for_its_own_mount_and_option() -> None:
    rows = {c: m for c, m in builtin_metadata().items() if m.value and m.value[0].fact == "mounts"}
    assert len(rows) == 16
    for meta in rows.values():
        row = meta.value[0]
        (step,) = meta.remediation_for("debian")
        assert step.kind == "command" and step.text == fstab_option_command(row.keys[0], str(row.want))
