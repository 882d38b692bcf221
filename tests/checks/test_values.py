"""The shared predicate of value rows (checks/values.py): the evidence each fact's rows give, and the
row format's validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.values import parse_rows
from imagevet.errors import DataError
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.cases import CASES, build_root
from tests.checks.support import AS_OF
from tests.conftest import FIXTURES


def evidence(root: Path, check: str) -> tuple[Status, list[str]]:
    result = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), [check]).results[0]
    return result.status, [str(e) for e in result.evidence]


@pytest.fixture
def weak(tmp_path: Path) -> Path:
    return build_root(next(c for c in CASES if c.name == "cis-fail"), tmp_path)


def test_sshd_none_of_names_the_weak_algorithms(weak: Path) -> None:
    status, shown = evidence(weak, "ssh-ciphers")
    assert status is Status.FAIL
    assert shown == [
        "ciphers aes128-cbc,aes256-ctr (/etc/ssh/sshd_config.d/05-weak.conf:6)",
        "weak: aes128-cbc",
    ]


def test_sshd_between_and_the_openssh_default(weak: Path) -> None:
    assert evidence(weak, "ssh-max-auth-tries") == (
        Status.FAIL,
        ["maxauthtries 6 (OpenSSH default: not set in any file)"],
    )


def test_login_defs_bounds_missing_and_not_a_number(weak: Path) -> None:
    assert evidence(weak, "password-max-days") == (
        Status.FAIL,
        [f"PASS_MAX_DAYS 99999; wanted <= 365 (/etc/login.defs:{_line(weak, 'PASS_MAX_DAYS')})"],
    )
    defs = weak / "etc/login.defs"
    defs.write_text(defs.read_text().replace("UMASK\t\t022", "UMASK\t\tu=rwx"))
    status, shown = evidence(weak, "default-umask")
    assert status is Status.ERROR and shown[0].startswith("UMASK u=rwx is not a number")
    defs.write_text("# nothing set\n")
    assert evidence(weak, "password-min-days") == (
        Status.FAIL,
        ["PASS_MIN_DAYS is not set in /etc/login.defs (wanted >= 1)"],
    )
    defs.unlink()
    assert evidence(weak, "password-warn-age")[0] is Status.ERROR


def _line(root: Path, key: str) -> int:
    lines = (root / "etc/login.defs").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(key))


def test_packages_rows(weak: Path) -> None:
    # the legacy services and clients cis-fail installs
    installed = ["installed: nis, rsh-client, talk, telnet, telnetd, tftp-hpa, tftpd-hpa, xinetd, ypserv"]
    assert evidence(weak, "packages-insecure-absent") == (Status.FAIL, installed)
    assert evidence(weak, "auditd-installed") == (
        Status.FAIL,
        ["no audit daemon installed (one of auditd, audit)"],
    )
    os.remove(weak / "var/lib/dpkg/status")
    assert evidence(weak, "time-sync-installed")[0] is Status.ERROR


def test_files_rows_skip_an_absent_gshadow_and_judge_a_loose_one(weak: Path) -> None:
    assert evidence(weak, "file-perms-gshadow")[0] is Status.FAIL
    os.remove(weak / "etc/gshadow")
    assert evidence(weak, "file-perms-gshadow") == (Status.SKIP, ["/etc/gshadow does not exist in the image"])
    status, shown = evidence(weak, "file-perms-group")
    assert status is Status.FAIL and shown == [
        "/etc/group: mode 0666, uid 0, gid 0: mode 0666 allows more than 0644 (/etc/group)"
    ]


def test_a_files_row_of_many_keys_judges_those_there_and_skips_only_when_none_is(weak: Path) -> None:
    status, shown = evidence(weak, "file-perms-grub-cfg")
    assert status is Status.FAIL and len(shown) == 1  # Debian's grub.cfg; the grub2 paths are not there
    assert "/boot/grub/grub.cfg: mode 0444" in shown[0]
    (weak / "boot/grub2").mkdir()
    (weak / "boot/grub2/grubenv").write_text("# GRUB Environment Block\n")
    (weak / "boot/grub2/grubenv").chmod(0o600)
    (weak / "boot/grub/grub.cfg").chmod(0o600)
    assert [s.split(":")[0] for s in evidence(weak, "file-perms-grub-cfg")[1]] == [
        "/boot/grub/grub.cfg",
        "/boot/grub2/grubenv",
    ]
    os.remove(weak / "boot/grub/grub.cfg")
    os.remove(weak / "boot/grub2/grubenv")
    status, shown = evidence(weak, "file-perms-grub-cfg")
    assert status is Status.SKIP and shown[0].startswith("none of /boot/grub/grub.cfg, /boot/grub2/grub.cfg")
    os.symlink("/nowhere", weak / "boot/grub/grub.cfg")  # a dangling link is there: an error, not a skip
    assert evidence(weak, "file-perms-grub-cfg")[0] is Status.ERROR


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "non-empty list of rows"),
        ({"fact": "proc", "keys": ["x"], "op": "eq", "want": 1}, "fact must be one of"),
        ({"fact": "sysctl", "keys": [], "op": "eq", "want": 1}, "keys must be"),
        ({"fact": "sysctl", "keys": ["x"], "op": "between", "want": [1]}, "low, high"),
        ({"fact": "login.defs", "keys": ["UMASK"], "op": "mask", "want": 23}, "octal string"),
        ({"fact": "sshd", "keys": ["loglevel"], "op": "in", "want": "INFO"}, "list of strings"),
        ({"fact": "packages", "keys": ["telnet"], "op": "none"}, "needs 'shown'"),
        ({"fact": "packages", "keys": ["telnet"], "op": "none", "want": 1, "shown": "x"}, "takes no 'want'"),
        (
            {"fact": "files", "keys": ["/etc/passwd"], "op": "mode", "want": "0644", "absent": "pass"},
            "absent",
        ),
        ({"fact": "files", "keys": ["/etc/passwd"], "op": "mode", "want": 644}, "octal string"),
        (
            {"fact": "sysctl", "keys": ["x"], "op": "eq", "want": 1, "groups": ["root"]},
            "belongs to files rows",
        ),
        (
            {"fact": "sysctl", "keys": ["x"], "op": "eq", "want": 1, "absent": "skip"},
            "'absent' belongs to files rows and units rows of op enabled",
        ),
        (
            {"fact": "units", "keys": ["x.service"], "op": "disabled", "absent": "skip"},
            "'absent' belongs to files rows and units rows of op enabled",
        ),
        (
            {"fact": "units", "keys": ["x.service"], "op": "enabled", "want": "yes"},
            "takes no 'want'",
        ),
        (
            {"fact": "units", "keys": ["x.service"], "op": "running"},
            "is not one of enabled, disabled",
        ),
    ],
)
def test_bad_rows_are_refused(raw: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_rows("x-y", raw)


def test_mount_rows_error_where_tmp_mount_has_drop_ins(tmp_path: Path) -> None:
    import shutil

    from tests.checks.support import statuses

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", root, symlinks=True)
    shutil.copytree(FIXTURES / "cases/tmp-mount-unit", root, symlinks=True, dirs_exist_ok=True)
    checks = ["mount-tmp-nodev", "mount-tmp-noexec", "mount-var-nodev"]
    assert statuses(root, checks) == {"mount-tmp-nodev": Status.PASS, "mount-tmp-noexec": Status.FAIL,
                                      "mount-var-nodev": Status.SKIP}  # fmt: skip
    (root / "usr/lib/systemd/system/tmp.mount.d").mkdir()  # options it may change are not read
    assert statuses(root, checks)["mount-tmp-nodev"] is Status.ERROR


@pytest.mark.parametrize(
    ("options", "holds"),
    [
        (("nodev",), True),
        (("defaults", "nodev"), True),
        (("nodev", "dev"), False),  # mount(8) reads left to right: the later dev undoes it
        (("nodev", "defaults"), True),  # libmount gives defaults no flags: it undoes nothing
        (("user",), True),  # user implies noexec, nosuid and nodev
        (("user", "dev"), False),
        (("NODEV",), False),
        (("nodev=1",), False),
        ((), False),
    ],
)
def test_a_mount_option_holds_as_mount_reads_the_list(options: tuple[str, ...], holds: bool) -> None:
    from imagevet.facts.mounts import has_option

    assert has_option(options, "nodev") is holds
