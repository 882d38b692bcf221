"""`imagevet harden`: the bash output applied for real in a chroot copy of the debootstrap root (the
re-audit passes what it addressed, a second run changes nothing), the #cloud-config validated by the
image's own cloud-init, the playbook by ansible-playbook --syntax-check."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.harden.bash import render_bash
from imagevet.harden.plan import Fix, Plan, plan_for
from imagevet.model import RemediationStep, Status
from imagevet.target import RootfsTarget
from tests.harden.conftest import VARIANTS, variant_root
from tests.support.cli import run_imagevet

AS_OF = dt.date(2026, 11, 28)
# Failing on the debootstrap root and fixable without the network (no apt-get): the e2e applies these.
OFFLINE = [
    "ssh-password-auth", "ssh-root-login", "sysctl-rp-filter", "sysctl-swappiness", "file-perms-sshd-config",
    "ssh-max-auth-tries", "ssh-login-grace-time", "ssh-client-alive", "ssh-x11-forwarding",
    "sysctl-accept-redirects", "sysctl-send-redirects", "sysctl-log-martians", "sudo-logfile", "ssh-macs",
    "password-max-days", "password-min-days", "default-umask", "account-lockout", "core-dumps-restricted",
    "filesystem-modules-disabled", "tmp-separate", "sysctl-secure-redirects", "sysctl-ipv6-router-adverts",
    "sysctl-ipv6-accept-redirects", "file-perms-cron-daily", "file-perms-cron-d", "ssh-banner",
    "sysctl-aslr", "sysctl-suid-dumpable", "sysctl-source-route", "sysctl-syncookies", "sysctl-ip-forward",
    "sysctl-icmp-broadcasts", "sysctl-icmp-bogus", "sysctl-ipv6-forward", "sysctl-ipv6-source-route",
    "kernel-module-usb-storage", "su-restricted", "shell-timeout", "password-inactive", "ssh-max-startups",
    "kernel-module-squashfs", "kernel-module-udf", "kernel-module-cramfs", "kernel-module-freevxfs",
    "kernel-module-hfs", "kernel-module-hfsplus", "kernel-module-jffs2",
]  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Mode and content digest of every regular file and link under the parts a fix may touch."""
    state = {}
    for top in ("etc", "usr/share/pam-configs", "var/lib/pam"):
        for path in sorted((root / top).rglob("*")):
            if path.is_symlink():
                state[str(path)] = (0, os.readlink(path))
            elif path.is_file():
                state[str(path)] = (path.stat().st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return state


@pytest.fixture
def image_copy(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    return root


TIMERS = ("apt-daily.timer", "apt-daily-upgrade.timer")


def chroot(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", str(root), *command], capture_output=True, text=True, timeout=300)


def harden_in_chroot(root: Path, checks: list[str]) -> subprocess.CompletedProcess[str]:
    """Write the bash fixes for ``checks`` into the root and run them there."""
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    return chroot(root, "/imagevet-harden.sh")


def prepared(variant: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the variant's root and the checks failing on it that can be fixed without the network.
    With unattended-upgrades installed, automatic updates are turned off the way an image may ship them:
    no 20auto-upgrades, and the apt timers disabled by the image's own tool (systemctl in its offline mode
    where there is one, else deb-systemd-helper, as Debian's maintainer scripts do it)."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(variant_root(variant)), str(root)], check=True)
    if not VARIANTS[variant]:
        return root, list(OFFLINE)
    (root / "etc/apt/apt.conf.d/20auto-upgrades").unlink()
    if variant == "systemctl-offline":
        disabled = chroot(root, "systemctl", "disable", *TIMERS)
    else:  # as apt's own maintainer scripts call it (it insists on being called from dpkg)
        disabled = chroot(
            root, "env", "DPKG_MAINTSCRIPT_PACKAGE=apt", "deb-systemd-helper", "disable", *TIMERS
        )
    assert disabled.returncode == 0, disabled.stderr
    assert not any((root / "etc/systemd/system/timers.target.wants" / t).is_symlink() for t in TIMERS)
    return root, [*OFFLINE, "updates-automatic"]


def leftovers(root: Path) -> list[str]:
    """Temporary files of the script (and sed's) and a /run/sshd made for sshd -t that were not removed."""
    found = [str(p) for top in ("etc", "usr/share/pam-configs") for p in (root / top).rglob("*imagevet-*.*")
             if ".imagevet-" in p.name]  # fmt: skip
    found += [str(p) for p in (root / "etc").rglob("sed*") if p.is_file() and len(p.name) == 9]
    return found + ([str(root / "run/sshd")] if (root / "run/sshd").exists() else [])


@pytest.mark.real
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_bash_fixes_apply_without_a_running_systemd_and_are_idempotent(variant: str, tmp_path: Path) -> None:
    """In a chroot, where no systemd runs: the script exits 0, names each running-system step it left for
    boot (once, however many fixes asked for it), enables units on their files (the links Debian's own
    tools made), and the re-audit passes every check it addressed; a second run changes nothing."""
    root, checks = prepared(variant, tmp_path)
    systemctl = chroot(root, "systemctl", "reload", "ssh")
    if variant == "systemctl-offline":  # the image's systemctl is there, and refuses: PID 1 is not systemd
        assert systemctl.returncode != 0 and "not been booted with systemd" in systemctl.stderr
    else:
        assert systemctl.returncode == 127  # no systemctl in the image at all
    before = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks)
    assert {r.check: r.status for r in before.results} == dict.fromkeys(checks, Status.FAIL)

    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"{len(checks)} failing check(s) addressed" in made.stderr and os.access(script, os.X_OK)

    first = chroot(root, "/imagevet-harden.sh")
    assert first.returncode == 0 and "imagevet: hardening applied" in first.stdout, (
        first.stdout + first.stderr
    )
    assert first.stdout.count("imagevet: wrote") >= 15
    left = [line for line in first.stdout.splitlines() if "left for boot: " in line]
    assert len(left) == 2, first.stdout
    assert "sysctl --system (for sysctl-rp-filter sysctl-swappiness " in left[1]
    assert "systemctl reload ssh 2>/dev/null || systemctl reload sshd (for ssh-password-auth " in left[0]
    assert "not been booted" not in first.stderr and "failed" not in first.stderr, first.stderr
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks)
    assert {r.check: r.status for r in report.results} == dict.fromkeys(checks, Status.PASS)
    if VARIANTS[variant]:
        shipped = variant_root(variant) / "etc/systemd/system/timers.target.wants"
        for timer in TIMERS:  # the very links Debian's deb-systemd-helper made when the package was installed
            link = root / "etc/systemd/system/timers.target.wants" / timer
            assert os.readlink(link) == os.readlink(shipped / timer)
        assert "enable apt-daily.timer apt-daily-upgrade.timer done on the unit files" in first.stdout
    sudoers = root / "etc/sudoers.d/50-imagevet-logfile"
    assert sudoers.stat().st_mode & 0o777 == 0o440
    assert chroot(root, "visudo", "-c").returncode == 0
    assert leftovers(root) == []

    before_second = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stderr
    assert "imagevet: wrote" not in second.stdout and "imagevet: linked" not in second.stdout
    assert snapshot(root) == before_second and leftovers(root) == []


@pytest.mark.real
def test_a_fix_that_really_fails_in_the_image_is_named_and_exits_1(image_copy: Path) -> None:
    """Read-only targets (bind mounts, as a read-only layer of a build would make them) and a broken sshd
    drop-in that sshd -t, run offline, refuses: those fixes are named and the script exits 1; the others
    are applied, and nothing half-written is left."""
    checks = ["password-max-days", "sysctl-swappiness", "ssh-x11-forwarding", "sudo-logfile"]
    swappiness = image_copy / "etc/sysctl.d/60-imagevet-swappiness.conf"
    swappiness.write_text("vm.swappiness = 60\n")
    script = image_copy / "imagevet-harden.sh"
    made = run_imagevet("harden", str(image_copy), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and "4 failing check(s) addressed" in made.stderr, made.stderr
    broken = image_copy / "etc/ssh/sshd_config.d/10-broken.conf"  # a later build step's mistake
    broken.write_text("NoSuchKeyword yes\n")
    readonly = [image_copy / "etc/login.defs", swappiness]
    mounts = " && ".join(f'mount --bind "{p}" "{p}" && mount -o remount,bind,ro "{p}"' for p in readonly)
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", f'{mounts} && exec chroot "{image_copy}" '
         "/imagevet-harden.sh"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failed = {"password-max-days", "sysctl-swappiness", "ssh-x11-forwarding"}
    for check in failed:
        assert f"imagevet: the fix for {check} failed" in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("imagevet: 3 fix(es) failed: ") and set(last.split(": ", 2)[2].split()) == failed
    assert "hardening applied" not in proc.stdout
    broken.unlink()  # imagevet refuses to judge sshd with it (error); without it, the x11 fix shows
    report = run_audit(RootfsTarget(str(image_copy)), CheckOptions(AS_OF), checks)
    statuses = {r.check: r.status for r in report.results}
    assert statuses == {"password-max-days": Status.FAIL, "sysctl-swappiness": Status.FAIL,
                        "ssh-x11-forwarding": Status.PASS, "sudo-logfile": Status.PASS}  # fmt: skip
    assert swappiness.read_text() == "vm.swappiness = 60\n"
    assert leftovers(image_copy) == []


def test_cloud_config_is_valid_for_the_images_cloud_init(image_copy: Path) -> None:
    document = image_copy / "harden.yaml"
    made = run_imagevet(
        "harden", str(image_copy), "--emit", "cloud-init", "--as-of", "2026-11-28", "-o", str(document)
    )
    assert made.returncode == 0 and document.read_text().startswith("#cloud-config\n")
    proc = subprocess.run(
        ["chroot", str(image_copy), "cloud-init", "schema", "--config-file", "/harden.yaml"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "Valid cloud-config" in proc.stdout, proc.stdout + proc.stderr


def test_ansible_playbook_passes_syntax_check(debian_root: Path, tmp_path: Path) -> None:
    playbook = tmp_path / "harden.yml"
    made = run_imagevet(
        "harden", str(debian_root), "--emit", "ansible", "--as-of", "2026-11-28", "-o", str(playbook)
    )
    assert made.returncode == 0
    ansible = shutil.which("ansible-playbook") or str(Path(sys.executable).with_name("ansible-playbook"))
    proc = subprocess.run(
        [ansible, "--syntax-check", "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = playbook.read_text()
    assert "ansible.builtin.copy" in text and "when: ansible_facts['service_mgr']" in text


def test_nothing_to_fix_and_heredoc_delimiters(debian_root: Path) -> None:
    report = run_audit(
        RootfsTarget(str(debian_root)), CheckOptions(AS_OF), select_checks(["ssh-empty-passwords"])
    )
    plan = plan_for(report)
    assert plan.fixes == () and "Nothing to fix" in render_bash(plan)
    step = RemediationStep("file", "a\nIMAGEVET_EOF\nb\n", "/etc/x.conf")
    tricky = Plan("t", "os", "imagevet", (Fix("file-perms-passwd", "t", "low", (step,)),))
    script = render_bash(tricky)
    assert "<<'IMAGEVET_EOF_'" in script
    proc = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def test_a_failing_fix_is_named_and_the_others_still_apply(tmp_path: Path) -> None:
    broken = Fix("auditd-installed", "t", "low", (RemediationStep("command", "false"),))
    target = tmp_path / "written.conf"
    working = Fix("sudo-logfile", "t", "low", (RemediationStep("file", "x = 1\n", str(target)),))
    script = tmp_path / "fix.sh"
    script.write_text(render_bash(Plan("t", "os", "imagevet", (broken, working))))
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert proc.returncode == 1 and "1 fix(es) failed: auditd-installed" in proc.stderr
    assert target.read_text() == "x = 1\n" and target.stat().st_mode & 0o777 == 0o644


@pytest.mark.real
def test_sshd_t_runs_in_an_image_without_host_keys(image_copy: Path) -> None:
    """Cloud images often ship without host keys (cloud-init makes them at first boot): sshd -t still
    checks the configuration, with a throwaway key that is gone afterwards, and still refuses a broken
    one."""
    for key in (image_copy / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    script = image_copy / "imagevet-harden.sh"
    made = run_imagevet("harden", str(image_copy), "--checks", "ssh-root-login,ssh-x11-forwarding",
                        "--as-of", "2026-11-28", "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    tmp_before = sorted(p.name for p in (image_copy / "tmp").iterdir())
    first = chroot(image_copy, "/imagevet-harden.sh")
    assert first.returncode == 0 and "imagevet: hardening applied" in first.stdout, first.stderr
    assert (
        sorted(p.name for p in (image_copy / "tmp").iterdir()) == tmp_before and leftovers(image_copy) == []
    )
    assert not list((image_copy / "etc/ssh").glob("ssh_host_*"))  # the image's own key set is untouched
    (image_copy / "etc/ssh/sshd_config.d/10-broken.conf").write_text("NoSuchKeyword yes\n")
    second = chroot(image_copy, "/imagevet-harden.sh")
    assert second.returncode == 1, second.stdout + second.stderr
    assert "Bad configuration option" in second.stderr
    assert second.stderr.splitlines()[-1] == "imagevet: 2 fix(es) failed: ssh-root-login ssh-x11-forwarding"
    assert (
        sorted(p.name for p in (image_copy / "tmp").iterdir()) == tmp_before and leftovers(image_copy) == []
    )
