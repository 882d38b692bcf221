"""`imagevet harden` for the Level 1 checks a stock debootstrap root already passes, so the shared chroot
test (test_harden.py) never sees them fail: a copy is loosened the way a careless build step leaves an
image (modes and owners of the account files, host keys, banners and cron tables; weak sshd settings in
the main sshd_config; !use_pty in /etc/sudoers; MD5 and no warning age in login.defs; an account with an
empty password; a system account with a shell), each change made with the image's own tools where it has
one. The re-audit then fails every check below; after the script it passes every one, and a second run
changes nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import chroot, leftovers, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

# (check, shell command run in the chroot that makes it fail)
LOOSENED = [
    ("file-perms-passwd", "chmod 0666 /etc/passwd"),
    ("file-perms-group", "chown daemon /etc/group"),
    ("file-perms-shadow", "chmod 0644 /etc/shadow"),
    ("file-perms-gshadow", "chown root:root /etc/gshadow && chmod 0664 /etc/gshadow"),
    ("file-perms-passwd-backup", "cp -p /etc/passwd /etc/passwd- && chmod 0666 /etc/passwd-"),
    ("file-perms-group-backup", "cp -p /etc/group /etc/group- && chmod 0646 /etc/group-"),
    ("file-perms-shadow-backup", "cp -p /etc/shadow /etc/shadow- && chmod 0644 /etc/shadow-"),
    ("file-perms-gshadow-backup", "cp -p /etc/gshadow /etc/gshadow- && chmod 0644 /etc/gshadow-"),
    ("file-perms-shells", "chmod 0664 /etc/shells"),
    ("file-perms-opasswd", "touch /etc/security/opasswd && chmod 0644 /etc/security/opasswd"),
    ("file-perms-motd", "chmod 0666 /etc/motd"),
    ("file-perms-issue", "chown daemon:daemon /etc/issue"),
    ("file-perms-issue-net", "chmod 0777 /etc/issue.net"),
    ("file-perms-crontab", "printf 'SHELL=/bin/sh\\n' > /etc/crontab && chmod 0644 /etc/crontab"),
    ("file-perms-cron-hourly", "mkdir -p /etc/cron.hourly && chmod 0755 /etc/cron.hourly"),
    ("file-perms-cron-weekly", "mkdir -p /etc/cron.weekly && chmod 0755 /etc/cron.weekly"),
    ("file-perms-cron-monthly", "mkdir -p /etc/cron.monthly && chmod 0755 /etc/cron.monthly"),
    ("ssh-host-keys", "chmod 0644 /etc/ssh/ssh_host_ed25519_key"),
    ("ssh-host-public-keys", "chmod 0666 /etc/ssh/ssh_host_rsa_key.pub"),
    ("ssh-ignore-rhosts", "echo 'IgnoreRhosts no' >> /etc/ssh/sshd_config"),
    ("ssh-hostbased-auth", "echo 'HostbasedAuthentication yes' >> /etc/ssh/sshd_config"),
    ("ssh-permit-user-env", "echo 'PermitUserEnvironment yes' >> /etc/ssh/sshd_config"),
    ("ssh-log-level", "echo 'LogLevel QUIET' >> /etc/ssh/sshd_config"),
    ("ssh-ciphers", "echo 'Ciphers aes128-ctr,3des-cbc' >> /etc/ssh/sshd_config"),
    ("ssh-kex", "echo 'KexAlgorithms curve25519-sha256,diffie-hellman-group1-sha1' >> /etc/ssh/sshd_config"),
    ("ssh-max-sessions", "echo 'MaxSessions 64' >> /etc/ssh/sshd_config"),
    ("ssh-use-pam", "sed -i 's/^UsePAM yes/UsePAM no/' /etc/ssh/sshd_config"),
    ("ssh-empty-passwords", "echo 'PermitEmptyPasswords yes' >> /etc/ssh/sshd_config"),
    ("sudo-use-pty", "sed -i 's/^Defaults[[:space:]]*use_pty/Defaults !use_pty/' /etc/sudoers"),
    ("password-warn-age", "sed -i 's/^PASS_WARN_AGE.*/PASS_WARN_AGE 0/' /etc/login.defs"),
    ("password-hashing", "sed -i 's/^#* *ENCRYPT_METHOD.*/ENCRYPT_METHOD MD5/' /etc/login.defs"),
    ("accounts-empty-password", "useradd -m -s /bin/bash carol && passwd -d carol"),
    ("accounts-system-no-shell", "usermod -s /bin/bash daemon"),
    ("file-perms-world-writable", "mkdir -p /srv/app && touch /srv/app/state && chmod 0666 /srv/app/state"),
    ("file-perms-sticky-dirs", "mkdir -p '/srv/drop zone' && chmod 0777 '/srv/drop zone'"),
    ("file-perms-unowned", "touch /opt/build.log && chown 4242 /opt/build.log"),
    ("file-perms-ungrouped", "mkdir -p /opt/cache && chgrp 4343 /opt/cache"),
    ("accounts-password-change-past", "useradd -p '$6$salt$hash' erin && chage -d 2099-01-01 erin"),
    (
        "file-perms-grub-cfg",
        "mkdir -p /boot/grub && echo 'set default=0' > /boot/grub/grub.cfg && chmod 0444 /boot/grub/grub.cfg",
    ),
]
CHECKS = [check for check, _ in LOOSENED]


def statuses(root: Path) -> dict[str, Status]:
    # today's date, not AS_OF: the change-date fix sets the date to the day it runs (chage -d today)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(dt.date.today()), CHECKS)
    return {r.check: r.status for r in report.results}


@pytest.fixture
def loosened(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    assert {c for c, s in statuses(root).items() if s is Status.FAIL} == set(), (
        "a check fails before loosening"
    )
    for check, command in LOOSENED:
        done = chroot(root, "sh", "-c", command)
        assert done.returncode == 0, (check, done.stderr)
    return root


def test_every_loosened_check_fails_then_passes_after_the_script_and_a_second_run_changes_nothing(
    loosened: Path,
) -> None:
    assert statuses(loosened) == dict.fromkeys(CHECKS, Status.FAIL)
    script = loosened / "imagevet-harden.sh"
    made = run_imagevet("harden", str(loosened), "--checks", ",".join(CHECKS), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and f"{len(CHECKS)} failing check(s) addressed" in made.stderr, made.stderr
    first = chroot(loosened, "/imagevet-harden.sh")
    applied = first.returncode == 0 and "imagevet: hardening applied" in first.stdout
    assert applied, first.stdout + first.stderr
    after = statuses(loosened)
    assert {c: s for c, s in after.items() if s is not Status.PASS} == {}
    assert chroot(loosened, "visudo", "-c").returncode == 0
    assert chroot(loosened, "sh", "-c", "mkdir -p /run/sshd && /usr/sbin/sshd -t").returncode == 0
    assert leftovers(loosened) == [str(loosened / "run/sshd")]

    before_second = snapshot(loosened)
    second = chroot(loosened, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "imagevet: wrote" not in second.stdout
    assert snapshot(loosened) == before_second
