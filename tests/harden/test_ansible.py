"""The Ansible playbook applied for real by ansible-playbook, over SSH, to a copy of the debootstrap
root: a real sshd with ChrootDirectory puts the play inside the image, where the image's own Python runs
the modules. The re-audit passes every check addressed, and a second run reports changed=0 and leaves
every file as it was (the shell tasks' changed_when is honest)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.harden.ansible import CHANGED, offline_aware, tracked_command
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.conftest import variant_root
from tests.harden.test_harden import AS_OF, OFFLINE, snapshot
from tests.support.cli import run_imagevet
from tests.support.debian_root import cache_root
from tests.support.sshd_server import (
    FALLBACK_CHROOT_PARENT,
    SshServer,
    chroot_safe,
    make_chroot_parent,
    running_sshd,
)

pytestmark = pytest.mark.real


@pytest.fixture
def chroot_copy(debian_root: Path) -> Iterator[Path]:
    """A copy of the root where sshd accepts it as a ChrootDirectory: every directory above it root-owned
    and writable by root only. Beside the test cache when sshd accepts that place, elsewhere when the
    cache (or $HOME) is under a world-writable directory such as /tmp."""
    parent = make_chroot_parent(cache_root() / "chroots")
    root = parent / "root"
    try:
        subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
        assert chroot_safe(root)
        yield root
    finally:
        shutil.rmtree(parent, ignore_errors=True)
        with contextlib.suppress(OSError):  # the directory it was made in, when nothing else is there
            parent.parent.rmdir()


def test_the_chroot_goes_where_sshd_accepts_it_wherever_the_cache_lives(tmp_path: Path) -> None:
    """Under /tmp (1777), as with HOME=/tmp/x, sshd would refuse the ChrootDirectory: the copy goes
    elsewhere, to a place whose every component is root-owned and writable by root only."""
    assert not chroot_safe(tmp_path)
    parent = make_chroot_parent(tmp_path / "cache" / "chroots")
    try:
        assert chroot_safe(parent) and not parent.is_relative_to(tmp_path)
        assert parent.parent == FALLBACK_CHROOT_PARENT
    finally:
        parent.rmdir()
        with contextlib.suppress(OSError):
            FALLBACK_CHROOT_PARENT.rmdir()
    safe = Path("/root/.cache") if chroot_safe(Path("/root")) else FALLBACK_CHROOT_PARENT
    beside = make_chroot_parent(safe / "imagevet-tests-probe" / "chroots")
    try:
        assert beside.parent == safe / "imagevet-tests-probe" / "chroots" and chroot_safe(beside)
    finally:
        shutil.rmtree(safe / "imagevet-tests-probe")


@pytest.fixture
def chroot_sshd(chroot_copy: Path, tmp_path: Path) -> Iterator[SshServer]:
    with running_sshd(tmp_path / "sshd", extra=f"ChrootDirectory {chroot_copy}\n") as server:
        yield server


def play(playbook: Path, server: SshServer, tmp_path: Path) -> tuple[dict[str, int], str]:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"image ansible_host=127.0.0.1 ansible_port={server.port} ansible_user=root "
        f"ansible_ssh_private_key_file={server.client_key} ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={server.known_hosts}'\n"
    )
    ansible = shutil.which("ansible-playbook") or str(Path(sys.executable).with_name("ansible-playbook"))
    proc = subprocess.run([ansible, "-i", str(inventory), str(playbook)], capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1",
                                            "HOME": str(tmp_path)})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recap = re.search(r"^image\s*:\s*(.*)$", proc.stdout, re.MULTILINE)
    assert recap, proc.stdout
    counts = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", recap.group(1))}
    return counts, proc.stdout


def test_the_playbook_applies_in_the_image_and_a_second_run_changes_nothing(
    chroot_copy: Path, chroot_sshd: SshServer, tmp_path: Path
) -> None:
    playbook = tmp_path / "harden.yml"
    made = run_imagevet("harden", str(chroot_copy), "--emit", "ansible", "--checks", ",".join(OFFLINE),
                        "--as-of", "2026-11-28", "-o", str(playbook))  # fmt: skip
    assert made.returncode == 0 and f"{len(OFFLINE)} failing check(s) addressed" in made.stderr, made.stderr

    first, _ = play(playbook, chroot_sshd, tmp_path)
    assert first["failed"] == 0 and first["changed"] >= len(OFFLINE), first
    report = run_audit(RootfsTarget(str(chroot_copy)), CheckOptions(AS_OF), OFFLINE)
    assert {r.check: r.status for r in report.results} == dict.fromkeys(OFFLINE, Status.PASS)

    before = snapshot(chroot_copy)
    second, output = play(playbook, chroot_sshd, tmp_path)
    assert second["changed"] == 0 and second["failed"] == 0, output
    assert "RUNNING HANDLER" not in output  # nothing changed, so no reload was asked for
    assert snapshot(chroot_copy) == before


def test_a_tracked_command_reports_exactly_when_it_changes_something(chroot_copy: Path) -> None:
    """The fingerprint in the image's own /bin/sh (dash): a rewrite with the same content is no change;
    a mode or content change is; the command's exit status is kept."""

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["chroot", str(chroot_copy), "/bin/sh", "-c", tracked_command(command)],
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    same = run("sed -i 's/^UMASK.*/&/' /etc/login.defs")  # rewrites the file, same bytes
    assert same.returncode == 0 and CHANGED not in same.stdout
    mode = run("chmod 0600 /etc/login.defs")
    assert mode.returncode == 0 and CHANGED in mode.stdout
    content = run("echo '# imagevet' >> /etc/login.defs")
    assert content.returncode == 0 and CHANGED in content.stdout
    failed = run("false")
    assert failed.returncode == 1 and CHANGED not in failed.stdout


def test_unit_action_and_sshd_test_tasks_work_in_an_image_without_systemctl(tmp_path: Path) -> None:
    """The playbook's form of `systemctl enable --now` and `sshd -t`, in the image's own dash, in a chroot
    of a root without systemctl: the timers are linked as Debian links them and the task reports the
    change; run again it reports none; sshd -t passes and leaves no /run/sshd."""
    shipped = variant_root("no-systemctl")
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(shipped), str(root)], check=True)
    timers = ("apt-daily.timer", "apt-daily-upgrade.timer")
    helper = ["env", "DPKG_MAINTSCRIPT_PACKAGE=apt", "deb-systemd-helper", "disable", *timers]
    disabled = subprocess.run(["chroot", str(root), *helper], capture_output=True, text=True, timeout=60)
    assert disabled.returncode == 0, disabled.stderr

    def run(command: str) -> subprocess.CompletedProcess[str]:
        script = tracked_command(offline_aware(command))
        return subprocess.run(["chroot", str(root), "/bin/sh", "-c", script], capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    first = run("systemctl enable --now " + " ".join(timers))
    assert first.returncode == 0 and CHANGED in first.stdout, first.stdout + first.stderr
    wants = "etc/systemd/system/timers.target.wants"
    assert all(os.readlink(root / wants / t) == os.readlink(shipped / wants / t) for t in timers)
    second = run("systemctl enable --now " + " ".join(timers))
    assert second.returncode == 0 and CHANGED not in second.stdout, second.stdout
    check = run("sshd -t")
    assert check.returncode == 0 and CHANGED not in check.stdout, check.stderr
    assert not (root / "run/sshd").exists()
