"""Fixes that said "applied" while something else in the image kept the check failing, or that weakened a
stricter setting the image already had; found by the red-team of issue 20 (rt25) and applied here for real
in chroot copies of the debootstrap root. Each now either wins, keeps the stricter value, or fails by name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.support.cli import run_imagevet
from tests.support.debian_root import ensure_debian_root

pytestmark = pytest.mark.real


def copy_of(source: Path, into: Path) -> Path:
    subprocess.run(["cp", "-a", str(source), str(into)], check=True)
    return into


@pytest.fixture
def root(debian_root: Path, tmp_path: Path) -> Path:
    return copy_of(debian_root, tmp_path / "root")


def status(root: Path, check: str) -> Status:
    return run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), [check]).results[0].status


def test_a_login_defs_without_the_setting_gets_it_and_comments_stay(root: Path) -> None:
    defs = root / "etc/login.defs"
    text = "\n".join(line for line in defs.read_text().splitlines() if not line.startswith("UMASK"))
    defs.write_text(text + "\n")
    comments = [line for line in defs.read_text().splitlines() if line.startswith("#")]
    assert status(root, "default-umask") is Status.FAIL
    first = harden(root, ["default-umask", "password-max-days"])
    assert first.returncode == 0, first.stderr
    assert status(root, "default-umask") is Status.PASS and status(root, "password-max-days") is Status.PASS
    assert [line for line in defs.read_text().splitlines() if line.startswith("#")] == comments
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second


def test_a_stricter_lockout_is_kept(root: Path) -> None:
    conf = root / "etc/security/faillock.conf"
    conf.write_text(conf.read_text() + "deny = 3\nunlock_time = 600\n")
    proc = harden(root, ["account-lockout"])
    assert proc.returncode == 0, proc.stderr
    kept = [line for line in conf.read_text().splitlines() if line and not line.startswith("#")]
    assert kept == ["deny = 3", "unlock_time = 900"]  # deny 3 is stricter than CIS's 5: it stays
    assert status(root, "account-lockout") is Status.PASS


def test_a_later_shorter_minlen_is_commented_out_and_a_longer_one_kept(tmp_path: Path) -> None:
    root = copy_of(ensure_debian_root(("libpam-pwquality",)), tmp_path / "root")
    later = root / "etc/security/pwquality.conf.d/99-site.conf"
    later.parent.mkdir(exist_ok=True)
    later.write_text("minlen = 8\ndifok = 5\n")
    longer = root / "etc/security/pwquality.conf.d/10-long.conf"
    longer.write_text("minlen = 20\n")
    assert status(root, "password-quality") is Status.FAIL
    proc = harden(root, ["password-quality"])
    assert proc.returncode == 0, proc.stderr
    assert later.read_text() == "# minlen = 8\ndifok = 5\n" and longer.read_text() == "minlen = 20\n"
    assert status(root, "password-quality") is Status.PASS


def test_a_shorter_minlen_on_the_pam_line_fails_the_fix(tmp_path: Path) -> None:
    root = copy_of(ensure_debian_root(("libpam-pwquality",)), tmp_path / "root")
    stack = root / "etc/pam.d/common-password"
    stack.write_text(
        stack.read_text().replace("pam_pwquality.so retry=3", "pam_pwquality.so retry=3 minlen=8")
    )
    assert "minlen=8" in stack.read_text()
    proc = harden(root, ["password-quality"])
    assert proc.returncode == 1 and "gives pam_pwquality a minlen below 14" in proc.stderr, proc.stderr


def test_a_later_negation_of_the_sudo_log_is_removed(root: Path) -> None:
    site = root / "etc/sudoers.d/99-site"
    site.write_text("Defaults !logfile\nDefaults env_reset\n")
    site.chmod(0o440)
    proc = harden(root, ["sudo-logfile"])
    assert proc.returncode == 0, proc.stderr
    assert site.read_text() == "Defaults env_reset\n" and status(root, "sudo-logfile") is Status.PASS


def test_a_sudoers_that_does_not_read_its_drop_ins_fails_the_fix(root: Path) -> None:
    sudoers = root / "etc/sudoers"
    sudoers.write_text(
        sudoers.read_text().replace("@includedir /etc/sudoers.d", "# @includedir /etc/sudoers.d")
    )
    proc = harden(root, ["sudo-logfile"])
    assert proc.returncode == 1 and "does not include /etc/sudoers.d" in proc.stderr, proc.stderr


def test_a_timeout_made_readonly_elsewhere_fails_the_fix(root: Path) -> None:
    (root / "etc/profile.d/00-site-tmout.sh").write_text("TMOUT=3600\nreadonly TMOUT\nexport TMOUT\n")
    proc = harden(root, ["shell-timeout"])
    assert proc.returncode == 1 and "00-site-tmout.sh makes TMOUT readonly as well" in proc.stderr, (
        proc.stderr
    )


def test_a_su_group_with_members_fails_the_fix(root: Path) -> None:
    assert chroot(root, "sh", "-c", "groupadd -r sugroup && useradd -G sugroup alice").returncode == 0
    proc = harden(root, ["su-restricted"])
    assert proc.returncode == 1 and "group sugroup has members (alice)" in proc.stderr, proc.stderr


RED_HAT_BASHRC = """\
# As Red Hat's /etc/bashrc sets it (setup package): by uid, under a condition.
if [ $UID -gt 199 ] && [ "`/usr/bin/id -gn`" = "`/usr/bin/id -un`" ]; then
   umask 002
else
   umask 022
fi
"""


def test_a_weaker_umask_in_a_profile_gets_the_missing_bits_and_a_stricter_one_stays(root: Path) -> None:
    """login.defs already says 027 on the debootstrap root after the first fix; the profiles' umask runs
    after it and used to leave the check passing with every shell at 022 (rt25)."""
    bashrc, script = root / "etc/bash.bashrc", root / "etc/profile.d/site.sh"
    bashrc.write_text(bashrc.read_text() + RED_HAT_BASHRC)
    script.write_text("umask 22; umask 077\n")
    script.chmod(0o640)
    (root / "etc/site-umask.sh").write_text("umask 002\n")
    (root / "etc/profile.d/linked.sh").symlink_to("../site-umask.sh")
    assert status(root, "default-umask") is Status.FAIL
    proc = harden(root, ["default-umask"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert status(root, "default-umask") is Status.PASS
    assert "   umask 027\nelse\n   umask 027\nfi\n" in bashrc.read_text()
    assert script.read_text() == "umask 027; umask 077\n" and script.stat().st_mode & 0o777 == 0o640
    assert not list(root.glob("etc/**/*.imagevet-umask"))
    assert (root / "etc/profile.d/linked.sh").is_symlink()  # the file it names is edited, the link stays
    assert (root / "etc/site-umask.sh").read_text() == "umask 027\n"
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second


def test_a_umask_that_is_not_a_number_is_left_undecided_not_fixed(root: Path) -> None:
    """The check cannot judge `umask "$X"`, so harden does not claim to fix it; the pasted fix itself
    refuses it by name."""
    (root / "etc/profile.d/site.sh").write_text('umask "$SITE_UMASK"\n')
    assert status(root, "default-umask") is Status.ERROR
    made = run_imagevet("harden", str(root), "--checks", "default-umask", "--as-of", "2026-11-28")
    assert "not addressed, could not be decided: default-umask" in made.stderr
    steps = builtin_metadata()["default-umask"].remediation_for("debian")
    (step,) = [s.text for s in steps if s.kind == "command" and "awk" in s.text]
    proc = chroot(root, "sh", "-c", step)
    assert proc.returncode == 1
    assert "/etc/profile.d/site.sh sets a umask that is not an octal number" in proc.stderr


def test_a_later_sysctl_file_is_commented_out_and_a_package_one_fails_the_fix(root: Path) -> None:
    """The sysctl fix writes 60-imagevet-*.conf; a later /etc file (99-site.conf) and /etc/sysctl.conf,
    which Debian links in as 99-sysctl.conf, used to keep their weaker values while the script said
    applied (rt25). An earlier package file (50-default.conf sorts first) loses to the fix and is fine."""
    sysctl_d = root / "etc/sysctl.d"
    (sysctl_d / "99-site.conf").write_text("# site\nnet/ipv4/conf/all/rp_filter = 0\nvm.swappiness = 60\n")
    conf = root / "etc/sysctl.conf"
    conf.write_text(conf.read_text() + "kernel.randomize_va_space = 0\n")
    vendor = root / "usr/lib/sysctl.d"
    vendor.mkdir(parents=True, exist_ok=True)
    (vendor / "50-default.conf").write_text("-net.ipv4.conf.all.rp_filter = 2\n")
    untouched = (sysctl_d / "99-sysctl.conf").is_symlink()
    checks = ["sysctl-rp-filter", "sysctl-aslr"]
    assert [status(root, c) for c in checks] == [Status.FAIL, Status.FAIL]
    proc = harden(root, checks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [status(root, c) for c in checks] == [Status.PASS, Status.PASS]
    site = (sysctl_d / "99-site.conf").read_text()
    assert site == "# site\n# net/ipv4/conf/all/rp_filter = 0\nvm.swappiness = 60\n"
    assert conf.read_text().endswith("# kernel.randomize_va_space = 0\n")
    assert (sysctl_d / "99-sysctl.conf").is_symlink() == untouched  # the link stays a link
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second
    (vendor / "99-vendor.conf").write_text("kernel.randomize_va_space = 1\n")
    (sysctl_d / "60-imagevet-aslr.conf").unlink()
    failed = harden(root, ["sysctl-aslr"])
    assert failed.returncode == 1
    assert (
        "99-vendor.conf sets kernel.randomize_va_space after /etc/sysctl.d/60-imagevet-aslr.conf"
        in failed.stderr
    )
    assert status(root, "sysctl-aslr") is Status.FAIL
