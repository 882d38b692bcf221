"""The CIS-Level-1 kind of checks on fixture trees: pass, fail, skip and error for each family."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from imagevet.audit import profiles, run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.errors import CheckSelectionError
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

AS_OF = dt.date(2026, 11, 28)


def statuses(root: Path, checks: list[str]) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks)
    return {r.check: r.status for r in report.results}


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", root, symlinks=True)
    return root


def test_file_permissions(debian: Path) -> None:
    checks = ["file-perms-passwd", "file-perms-shadow", "file-perms-gshadow"]
    os.chmod(debian / "etc/passwd", 0o644)
    os.chmod(debian / "etc/shadow", 0o640)
    (debian / "etc/gshadow").unlink(missing_ok=True)
    got = statuses(debian, checks)
    assert got == {
        "file-perms-passwd": Status.PASS,
        "file-perms-shadow": Status.PASS,
        "file-perms-gshadow": Status.SKIP,
    }
    os.chmod(debian / "etc/shadow", 0o644)
    os.chmod(debian / "etc/passwd", 0o666)
    got = statuses(debian, checks)
    assert got["file-perms-shadow"] is Status.FAIL and got["file-perms-passwd"] is Status.FAIL
    (debian / "etc/passwd").unlink()
    assert statuses(debian, ["file-perms-passwd"])["file-perms-passwd"] is Status.ERROR


def test_sshd_config_permissions_follow_cis_0600(debian: Path) -> None:
    os.chmod(debian / "etc/ssh/sshd_config", 0o600)
    assert statuses(debian, ["file-perms-sshd-config"])["file-perms-sshd-config"] is Status.PASS
    os.chmod(debian / "etc/ssh/sshd_config", 0o644)  # Debian's default: CIS asks for og-rwx
    assert statuses(debian, ["file-perms-sshd-config"])["file-perms-sshd-config"] is Status.FAIL


def test_sshd_parameters(debian: Path) -> None:
    checks = [
        "ssh-max-auth-tries",
        "ssh-login-grace-time",
        "ssh-client-alive",
        "ssh-x11-forwarding",
        "ssh-log-level",
    ]
    (debian / "etc/ssh/sshd_config.d/05-cis.conf").write_text(
        "MaxAuthTries 4\nLoginGraceTime 1m\nClientAliveInterval 300\nClientAliveCountMax 3\n"
        "X11Forwarding no\nLogLevel VERBOSE\n"
    )
    assert set(statuses(debian, checks).values()) == {Status.PASS}
    (debian / "etc/ssh/sshd_config.d/05-cis.conf").write_text("MaxAuthTries 10\nLogLevel QUIET\n")
    got = statuses(debian, checks)
    assert got["ssh-max-auth-tries"] is Status.FAIL and got["ssh-log-level"] is Status.FAIL
    assert got["ssh-client-alive"] is Status.FAIL  # ClientAliveInterval 0 by default: sessions never time out
    shutil.rmtree(debian / "etc/ssh")
    (debian / "usr/sbin/sshd").unlink()
    assert set(statuses(debian, checks).values()) == {Status.SKIP}


def test_sysctl_hardening(debian: Path) -> None:
    checks = ["sysctl-accept-redirects", "sysctl-send-redirects", "sysctl-log-martians", "sysctl-ip-forward"]
    got = statuses(debian, checks)
    assert got == {
        "sysctl-accept-redirects": Status.FAIL,
        "sysctl-send-redirects": Status.FAIL,
        "sysctl-log-martians": Status.FAIL,
        "sysctl-ip-forward": Status.PASS,
    }
    (debian / "etc/sysctl.d/61-cis.conf").write_text(
        "net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\n"
        "net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n"
        "net.ipv4.conf.all.log_martians = 1\nnet.ipv4.ip_forward = 1\n"
    )
    got = statuses(debian, checks)
    assert got["sysctl-accept-redirects"] is Status.PASS and got["sysctl-ip-forward"] is Status.FAIL


def test_packages_sudo_and_tmp(debian: Path) -> None:
    checks = ["packages-insecure-absent", "time-sync-installed", "sudo-use-pty", "tmp-separate"]
    got = statuses(debian, checks)
    assert got["packages-insecure-absent"] is Status.PASS  # telnet is only config-files: not installed
    assert got["time-sync-installed"] is Status.FAIL
    assert got["sudo-use-pty"] is Status.SKIP  # no /etc/sudoers in the fixture
    status = debian / "var/lib/dpkg/status"
    # telnet goes from config-files to installed (a second telnet stanza is a database dpkg refuses).
    text = status.read_text().replace(
        "Package: telnet\nStatus: deinstall ok config-files", "Package: telnet\nStatus: install ok installed"
    )
    status.write_text(
        text + "\nPackage: chrony\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.3-2\n"
    )
    (debian / "etc/sudoers").write_text("Defaults\tuse_pty\nroot ALL=(ALL:ALL) ALL\n")
    (debian / "etc/fstab").write_text("tmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n")
    got = statuses(debian, checks)
    assert got == {
        "packages-insecure-absent": Status.FAIL,
        "time-sync-installed": Status.PASS,
        "sudo-use-pty": Status.PASS,
        "tmp-separate": Status.PASS,
    }


def test_profiles() -> None:
    known = profiles()
    assert set(known) == {"checklist", "cis-l1", "mlps-l3", "pci-dss", "all"}
    assert len(select_checks(None)) == 18
    assert set(select_checks(None, "cis-l1")) >= {"file-perms-shadow", "ssh-max-auth-tries", "sysctl-aslr"}
    assert select_checks(None, "all") == list(known["all"][1])
    with pytest.raises(CheckSelectionError, match="choose from: checklist"):
        select_checks(None, "nist")


def test_password_quality(debian: Path) -> None:
    def status() -> Status:
        return statuses(debian, ["password-quality"])["password-quality"]

    assert status() is Status.SKIP  # no PAM in this fixture
    pam = debian / "etc/pam.d"
    pam.mkdir(parents=True)
    (pam / "common-password").write_text("password [success=1 default=ignore] pam_unix.so obscure yescrypt\n")
    assert status() is Status.FAIL
    (pam / "common-password").write_text(
        "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so\n"
    )
    assert status() is Status.FAIL  # libpwquality's default minlen is 8
    dropins = debian / "etc/security/pwquality.conf.d"
    dropins.mkdir(parents=True)
    (dropins / "60-imagevet-minlen.conf").write_text("minlen = 14\n")
    assert status() is Status.PASS
    (debian / "etc/security/pwquality.conf").write_text("minlen = 8\n")  # read last: it wins
    assert status() is Status.FAIL
    (pam / "common-password").write_text("password requisite pam_pwquality.so retry=3 minlen=15\n")
    assert status() is Status.PASS  # the module's argument overrides the files


def test_account_lockout(debian: Path) -> None:
    def status() -> Status:
        return statuses(debian, ["account-lockout"])["account-lockout"]

    assert status() is Status.SKIP
    pam = debian / "etc/pam.d"
    pam.mkdir(parents=True)
    (pam / "common-auth").write_text("auth [success=1 default=ignore] pam_unix.so nullok\n")
    assert status() is Status.FAIL
    (pam / "common-auth").write_text(
        "auth requisite pam_faillock.so preauth\n"
        "auth [success=1 default=ignore] pam_unix.so nullok\n"
        "auth [default=die] pam_faillock.so authfail\n"
    )
    assert status() is Status.FAIL  # defaults: deny 3 but unlock_time 600 s
    conf = debian / "etc/security/faillock.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("# deny = 3\ndeny = 5\nunlock_time = 900\n")
    assert status() is Status.PASS
    conf.write_text("deny = 0\nunlock_time = 900\n")  # 0 never locks
    assert status() is Status.FAIL
    conf.write_text("deny = 4\nunlock_time = 0\n")  # 0: locked until an administrator resets it
    assert status() is Status.PASS
    (pam / "common-auth").write_text("auth requisite pam_faillock.so preauth deny=10\n")
    assert status() is Status.FAIL
