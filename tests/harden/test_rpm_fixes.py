"""`imagevet harden` for the Red Hat family's package fixes, applied with the real dnf and rpm in a root
that is a RHEL 9 image to imagevet (tests/support/rpmrepo.py says how it is made and what that proves):
the removals (`purge: dnf`, checks/package_fix.py) and the fixes that install a package and then enable
the unit it ships (chrony, audit, dnf-automatic), and AIDE and sudo. Each is re-audited, and run a second
time to show it changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.package_fix import removal_names
from imagevet.model import Status
from tests.harden.test_harden import snapshot
from tests.harden.test_package_fixes import harden as harden_and_run
from tests.harden.test_package_fixes import statuses
from tests.support.rpmrepo import chroot, make_rhel_shaped, rpm_names, stand_in_rpm

pytestmark = pytest.mark.real

KEPT = "openssh-server"  # an rpm of the image that no fix may touch


def removal_checks() -> dict[str, tuple[str, ...]]:
    """Each check whose Red Hat fix is a dnf removal, and the names its packages row fails on."""
    found = {}
    for check, meta in builtin_metadata().items():
        names = removal_names(meta.value)
        if names and any("dnf remove -y" in step.text for step in meta.remediation_for("rhel")):
            found[check] = names
    return found


def harden(root: Path, checks: list[str]) -> subprocess.CompletedProcess[str]:
    """As for the Debian removals (test_package_fixes.harden), and the script must be the Red Hat one."""
    proc = harden_and_run(root, checks)
    assert "# Hardening for Red Hat Enterprise Linux 9.4" in (root / "imagevet-harden.sh").read_text()
    return proc


def dnf_install(root: Path, *names: str) -> None:
    done = chroot(root, "dnf", "install", "-y", *names)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_dnf_removal_is_fixed_by_removing_exactly_its_packages(rhel_copy: Path, tmp_path: Path) -> None:
    checks = removal_checks()
    assert len(checks) >= 25 and "packages-no-telnet-server" in checks and "packages-no-mcstrans" in checks
    names = sorted({name for judged in checks.values() for name in judged})
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, name) for name in [*names, KEPT]])
    dnf_install(rhel_copy, *names, KEPT)
    assert statuses(rhel_copy, list(checks)) == dict.fromkeys(checks, Status.FAIL)

    first = harden(rhel_copy, list(checks))
    applied = first.returncode == 0 and "imagevet: hardening applied" in first.stdout
    assert applied, first.stdout + first.stderr
    assert statuses(rhel_copy, list(checks)) == dict.fromkeys(checks, Status.PASS)
    assert rpm_names(rhel_copy) == {KEPT}
    assert [p.name for p in (rhel_copy / "usr/share/imagevet-test").iterdir()] == [KEPT]

    before_second = snapshot(rhel_copy)
    second = chroot(rhel_copy, "/imagevet-harden.sh")
    assert second.returncode == 0 and "Removed:" not in second.stdout, second.stdout + second.stderr
    assert snapshot(rhel_copy) == before_second
    assert rpm_names(rhel_copy) == {KEPT}


def test_a_removal_dnf_refuses_is_a_failed_fix_and_the_package_stays(rhel_copy: Path, tmp_path: Path) -> None:
    """A package in /etc/dnf/protected.d is one dnf will not remove: the fix fails by name, the script
    exits 1, and the other removals are still made (as apt's refusal of an essential package does)."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, name) for name in ("telnet", "rsync")])
    dnf_install(rhel_copy, "telnet", "rsync")
    (rhel_copy / "etc/dnf/protected.d/imagevet-test.conf").write_text("telnet\n")
    checks = ["packages-no-telnet-client", "packages-no-rsync"]
    proc = harden(rhel_copy, checks)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for packages-no-telnet-client failed" in proc.stderr
    assert "packages-no-rsync failed" not in proc.stderr
    after = statuses(rhel_copy, checks)
    assert after == {"packages-no-telnet-client": Status.FAIL, "packages-no-rsync": Status.PASS}
    assert rpm_names(rhel_copy) == {"telnet"}


def test_an_rpm_database_that_cannot_be_listed_fails_the_fix(rhel_copy: Path, tmp_path: Path) -> None:
    """No rpm binary in the image: "none installed" must not be read from its silence."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, "telnet")])
    dnf_install(rhel_copy, "telnet")
    (rhel_copy / "usr/bin/rpm").rename(rhel_copy / "usr/bin/rpm.moved")
    proc = harden(rhel_copy, ["packages-no-telnet-client"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for packages-no-telnet-client failed" in proc.stderr


def unit(description: str, wanted_by: str) -> str:
    service = "[Service]\nExecStart=/bin/true\n"
    return f"[Unit]\nDescription={description}\n\n{service}\n[Install]\nWantedBy={wanted_by}\n"


# The packages the install fixes name, and the unit each real package ships that the next step enables
# (chrony's chronyd.service, audit's auditd.service, dnf-automatic's timer: the names in RHEL 9's packages
# that the fixes enable; each stand-in carries only that).
INSTALLED = {
    "chrony": {"/usr/lib/systemd/system/chronyd.service": unit("NTP client/server", "multi-user.target")},
    "audit": {
        "/usr/lib/systemd/system/auditd.service": unit("Security Auditing Service", "multi-user.target")
    },
    "dnf-automatic": {
        "/usr/lib/systemd/system/dnf-automatic.timer": "[Unit]\nDescription=dnf-automatic timer\n\n"
        "[Timer]\nOnCalendar=*-*-* 6:00\n\n[Install]\nWantedBy=timers.target\n",
        "/usr/lib/systemd/system/dnf-automatic.service": "[Unit]\nDescription=dnf automatic\n\n"
        "[Service]\nType=oneshot\nExecStart=/usr/bin/dnf-automatic\n",
    },
    "aide": {},
    "cronie": {},  # runs aide-periodic's daily check: RHEL's aide ships no timer
    "sudo": {},
}
INSTALL_CHECKS = [
    "time-sync-installed",
    "auditd-installed",
    "updates-automatic",
    "packages-aide",
    "aide-periodic",
    "packages-sudo",
]
WANTS = {
    "etc/systemd/system/multi-user.target.wants/chronyd.service",
    "etc/systemd/system/multi-user.target.wants/auditd.service",
    "etc/systemd/system/timers.target.wants/dnf-automatic.timer",
}


def without_debian_sudo(root: Path) -> None:
    """The tools root has Debian's sudo (dpkg); a RHEL image without sudo has neither."""
    done = chroot(root, "sh", "-c", "SUDO_FORCE_REMOVE=yes apt-get purge -y -q sudo")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_install_fixes_install_from_the_repository_and_enable_what_they_installed(
    rhel_copy: Path, tmp_path: Path
) -> None:
    """No systemd in the root: the units are enabled the way systemctl's offline mode does it (links
    from their [Install] sections, harden/offline.py), and no daemon starts."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, n, files) for n, files in INSTALLED.items()])
    without_debian_sudo(rhel_copy)
    assert statuses(rhel_copy, INSTALL_CHECKS) == dict.fromkeys(INSTALL_CHECKS, Status.FAIL)

    first = harden(rhel_copy, INSTALL_CHECKS)
    applied = first.returncode == 0 and "imagevet: hardening applied" in first.stdout
    assert applied, first.stdout + first.stderr
    assert statuses(rhel_copy, INSTALL_CHECKS) == dict.fromkeys(INSTALL_CHECKS, Status.PASS)
    assert rpm_names(rhel_copy) == set(INSTALLED)
    assert all((rhel_copy / link).is_symlink() for link in WANTS)
    assert "apply_updates = yes" in (rhel_copy / "etc/dnf/automatic.conf").read_text()
    assert (rhel_copy / "etc/cron.d").stat().st_mode & 0o777 == 0o700  # as file-perms-cron-d asks

    before_second = snapshot(rhel_copy)
    second = chroot(rhel_copy, "/imagevet-harden.sh")
    assert second.returncode == 0 and "Installed:" not in second.stdout, second.stdout + second.stderr
    assert snapshot(rhel_copy) == before_second


def test_an_install_with_no_repository_is_a_failed_fix(rhel_copy: Path, tmp_path: Path) -> None:
    """An image whose repositories cannot be reached (here: none configured) fails the fix by name;
    dnf's skip_if_unavailable must not turn that into "applied"."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, "aide")])
    (rhel_copy / "etc/yum.repos.d/imagevet-test.repo").unlink()
    proc = harden(rhel_copy, ["packages-aide"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for packages-aide failed" in proc.stderr
    assert statuses(rhel_copy, ["packages-aide"]) == {"packages-aide": Status.FAIL}


POLICY = "selinux-policy-targeted"


def test_selinux_is_set_to_enforcing_only_with_its_policy_and_off_switches_removed(
    rhel_copy: Path, tmp_path: Path
) -> None:
    """An image whose SELinux is disabled in its config and on the kernel command line (one value quoted
    each way, one in grub.d): the policy is installed first, one SELINUX=enforcing line is left, the
    files are relabelled once, and a second run changes nothing (no second relabel)."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, POLICY)])
    (rhel_copy / "etc/selinux").mkdir(exist_ok=True)
    (rhel_copy / "etc/selinux/config").write_text(
        "# SELINUX= one of ...\nSELINUX=disabled\nSELINUXTYPE=targeted\n"
    )
    (rhel_copy / "etc/default/grub.d").mkdir(parents=True, exist_ok=True)
    (rhel_copy / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="console=ttyS0 selinux=0"\n')
    (rhel_copy / "etc/default/grub.d/50-cloud.cfg").write_text("GRUB_CMDLINE_LINUX_DEFAULT='enforcing=0'\n")
    assert statuses(rhel_copy, ["mac-enforcing"]) == {"mac-enforcing": Status.FAIL}

    first = harden(rhel_copy, ["mac-enforcing"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert statuses(rhel_copy, ["mac-enforcing"]) == {"mac-enforcing": Status.PASS}
    assert rpm_names(rhel_copy) == {POLICY}
    config = (rhel_copy / "etc/selinux/config").read_text()
    assert (
        [line for line in config.splitlines() if line.startswith("SELINUX=")] == ["SELINUX=enforcing"]
        and "SELINUX=enforcing\n" in config
        and "SELINUXTYPE=targeted" in config
    )
    assert (rhel_copy / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="console=ttyS0 "\n'
    assert (rhel_copy / ".autorelabel").exists()

    (rhel_copy / ".autorelabel").unlink()  # as the relabelling boot does
    before_second = snapshot(rhel_copy)
    second = chroot(rhel_copy, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stdout + second.stderr
    assert snapshot(rhel_copy) == before_second and not (rhel_copy / ".autorelabel").exists()


def test_an_image_without_a_policy_gets_one_before_its_config(rhel_copy: Path, tmp_path: Path) -> None:
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, POLICY)])
    assert not (rhel_copy / "etc/selinux/config").exists()
    proc = harden(rhel_copy, ["mac-enforcing"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(rhel_copy, ["mac-enforcing"]) == {"mac-enforcing": Status.PASS}
    assert rpm_names(rhel_copy) == {POLICY}


def test_no_policy_to_install_leaves_selinux_alone(rhel_copy: Path, tmp_path: Path) -> None:
    """Without the policy (no repository has it), the mode is not touched: enforcing with no policy stops
    the boot. The fix fails by name."""
    make_rhel_shaped(rhel_copy, [])
    (rhel_copy / "etc/selinux").mkdir(exist_ok=True)
    (rhel_copy / "etc/selinux/config").write_text("SELINUX=disabled\n")
    proc = harden(rhel_copy, ["mac-enforcing"])
    assert proc.returncode == 1 and "imagevet: the fix for mac-enforcing failed" in proc.stderr, proc.stderr
    assert (rhel_copy / "etc/selinux/config").read_text() == "SELINUX=disabled\n"


def test_boot_entries_that_turn_selinux_off_need_grubby(rhel_copy: Path, tmp_path: Path) -> None:
    """A boot loader entry (BLS, /boot/loader/entries) with selinux=0 is changed by grubby; an image
    without grubby fails the fix rather than leave the entry."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, POLICY)])
    (rhel_copy / "boot/loader/entries").mkdir(parents=True)
    (rhel_copy / "boot/loader/entries/0-5.14.0.conf").write_text(
        "title RHEL\noptions root=/dev/vda1 selinux=0\n"
    )
    proc = harden(rhel_copy, ["mac-enforcing"])
    assert proc.returncode == 1 and "imagevet: the fix for mac-enforcing failed" in proc.stderr, proc.stderr
    assert "grubby" in proc.stderr


def test_a_legacy_crypto_policy_with_no_tool_to_change_it_fails_the_fix(rhel_copy: Path) -> None:
    """update-crypto-policies is not on Debian, so its success cannot be shown here; its absence can: the
    fix used to end in `; true`, which made a LEGACY policy that nothing changed read as applied."""
    make_rhel_shaped(rhel_copy, [])
    (rhel_copy / "etc/crypto-policies").mkdir()
    (rhel_copy / "etc/crypto-policies/config").write_text("LEGACY\n")
    assert statuses(rhel_copy, ["crypto-policy-not-legacy"]) == {"crypto-policy-not-legacy": Status.FAIL}
    proc = harden(rhel_copy, ["crypto-policy-not-legacy"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for crypto-policy-not-legacy failed" in proc.stderr


def red_hat_password_stacks(root: Path, password_auth_calls_pwquality: bool) -> None:
    """The Debian common-* files out, and the pam_unix and pwquality lines of the two files authselect
    writes (its profiles' auth line has nullok unless the without-nullok feature is on)."""
    for common in (root / "etc/pam.d").glob("common-*"):
        common.unlink()
    auth = "auth        sufficient    pam_unix.so nullok\naccount     required      pam_unix.so\n"
    quality = "password    requisite     pam_pwquality.so local_users_only\n"
    unix = "password    sufficient    pam_unix.so yescrypt shadow use_authtok\n"
    unix += "session     required      pam_unix.so\n"
    (root / "etc/pam.d/system-auth").write_text(auth + quality + unix)
    (root / "etc/pam.d/password-auth").write_text(
        auth + (quality if password_auth_calls_pwquality else "") + unix
    )


@pytest.mark.parametrize("password_auth_calls_pwquality", [True, False])
def test_password_quality_passes_only_where_the_stack_calls_pwquality(
    rhel_copy: Path, tmp_path: Path, password_auth_calls_pwquality: bool
) -> None:
    """The fix installs libpwquality and sets minlen; the PAM stack is authselect's, which this machine does
    not have. Where one of the two files does not call pam_pwquality, the fix fails by name instead of
    saying applied (it used to: the install and the drop-in succeed either way)."""
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, "libpwquality")])
    red_hat_password_stacks(rhel_copy, password_auth_calls_pwquality)
    assert statuses(rhel_copy, ["password-quality"]) == {"password-quality": Status.FAIL}
    proc = harden(rhel_copy, ["password-quality"])
    after = statuses(rhel_copy, ["password-quality"])["password-quality"]
    if password_auth_calls_pwquality:
        assert proc.returncode == 0 and after == Status.PASS, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 1 and after == Status.FAIL, proc.stdout + proc.stderr
        assert "/etc/pam.d/password-auth does not call pam_pwquality" in proc.stderr
        assert "imagevet: the fix for password-quality failed" in proc.stderr
