"""Account checks: default passwords, root locked, PAM password quality and lockout."""

from __future__ import annotations

from pathlib import Path

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, ROOTFS, audit, statuses


def test_default_passwords_fail_and_root_has_a_password() -> None:
    statuses = audit(ROOTFS / "default-passwords")
    assert statuses["accounts-default-password"] is Status.FAIL
    assert statuses["accounts-root-locked"] is Status.FAIL
    report = run_audit(
        RootfsTarget(str(ROOTFS / "default-passwords")), CheckOptions(AS_OF), ["accounts-default-password"]
    )
    details = " ".join(e.detail for e in report.results[0].evidence)
    assert "ubuntu" in details and "$y$" not in details  # names the account, never prints a hash


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
