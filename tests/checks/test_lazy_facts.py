"""An audit reads only what its selected checks need: facts are gathered when a check first asks.

The roots are real fixture directories read through the real RootfsTarget; the recording subclass only
writes down which files were opened and which directories listed, it changes no answer.
"""

from __future__ import annotations

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.checks.needs import builtin_needs, needs_for
from imagevet.model import Status, Unknown
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, ROOTFS
from tests.conftest import FIXTURES

CORRUPT_DPKG = FIXTURES / "audit/corrupt-dpkg"


class RecordingRootfs(RootfsTarget):
    """A RootfsTarget that remembers every file it read and every directory it listed."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.touched: list[str] = []

    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        self.touched.append("/" + "/".join(parts))
        return super()._content(parts, path, max_bytes)

    def _names(self, parts: list[str]) -> list[str]:
        self.touched.append("/" + "/".join(parts) + "/")
        return super()._names(parts)


def _statuses(target: RootfsTarget, checks: list[str]) -> dict[str, Status]:
    report = run_audit(target, CheckOptions(AS_OF), checks)
    return {r.check: r.status for r in report.results}


def test_one_ssh_check_reads_only_sshd_and_os_release() -> None:
    target = RecordingRootfs(str(ROOTFS / "hardened-debian"))
    assert _statuses(target, ["ssh-root-login"]) == {"ssh-root-login": Status.PASS}
    assert set(target.touched) == {
        "/usr/lib/os-release",
        "/etc/ssh/sshd_config",
        "/etc/ssh/sshd_config.d/",
        "/etc/ssh/sshd_config.d/00-hardening.conf",
    }


def test_the_default_profile_reads_no_sudoers_pam_or_login_defs() -> None:
    target = RecordingRootfs(str(ROOTFS / "hardened-debian"))
    _statuses(target, select_checks(None))
    unread = ("/etc/sudoers", "/etc/pam.d", "/etc/login.defs", "/etc/security", "/etc/fstab")
    assert not [path for path in target.touched if path.startswith(unread)]
    assert "/var/lib/dpkg/status" in target.touched  # mac-enforcing and cloudinit-version need packages


def test_a_corrupt_package_database_does_not_touch_checks_that_do_not_need_it() -> None:
    assert _statuses(RootfsTarget(str(CORRUPT_DPKG)), ["ssh-root-login"]) == {"ssh-root-login": Status.PASS}


def test_a_check_that_needs_the_corrupt_package_database_is_error() -> None:
    report = run_audit(RootfsTarget(str(CORRUPT_DPKG)), CheckOptions(AS_OF), ["packages-insecure-absent"])
    (result,) = report.results
    assert result.status is Status.ERROR  # fail closed: never "no insecure package found"
    assert "/var/lib/dpkg/status" in result.evidence[0].detail
    assert "dpkg refuses" in result.evidence[0].detail


def test_both_together_keep_their_own_verdicts() -> None:
    checks = ["ssh-root-login", "packages-insecure-absent"]
    assert _statuses(RootfsTarget(str(CORRUPT_DPKG)), checks) == {
        "ssh-root-login": Status.PASS,
        "packages-insecure-absent": Status.ERROR,
    }


def test_needs_follow_the_selected_checks() -> None:
    assert needs_for(["sysctl-aslr"]).sysctl_keys == ("kernel.randomize_va_space",)
    assert needs_for(["ssh-root-login"]).sysctl_keys == ()
    assert needs_for(select_checks(None, "all")).sysctl_keys == builtin_needs().sysctl_keys
