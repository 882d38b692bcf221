"""The mount-option fix with an ``add`` line (checks/fstab_fix.py), as the /dev/shm checks use it: systemd
mounts /dev/shm without an fstab line, so the fix appends one where none names it. Run for real by /bin/sh
with this machine's awk and by BusyBox alone (the ``shell`` fixture of test_fstab_fix.py), read back with the
audit's own reader; a second run must leave the file byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.checks.fstab_fix import fstab_option_command
from imagevet.errors import DataError
from imagevet.facts.mounts import has_option, parse_fstab
from tests.checks import test_fstab_fix as plain
from tests.checks.test_fstab_fix import DEV_SHM_LINE, options_of, run_fix, write_fstab

busybox_path, shell, root = plain.busybox_path, plain.shell, plain.root  # its fixtures, shared

SYSTEM = "# /etc/fstab\nUUID=1 / ext4 errors=remount-ro 0 1\n"


def fixed(root: Path, option: str, shell: str) -> bytes:
    """The fstab after the fix for ``option`` of /dev/shm ran twice: the first run succeeded, the second
    changed nothing."""
    result = run_fix(root, "/dev/shm", option, shell, DEV_SHM_LINE)
    assert result.returncode == 0, result.stderr
    once = (root / "etc/fstab").read_bytes()
    again = run_fix(root, "/dev/shm", option, shell, DEV_SHM_LINE)
    assert again.returncode == 0, again.stderr
    assert (root / "etc/fstab").read_bytes() == once
    return once


@pytest.mark.parametrize("option", ["nodev", "nosuid", "noexec"])
def test_no_line_for_dev_shm_gets_the_line_which_keeps_systemds_options(
    root: Path, shell: str, option: str
) -> None:
    write_fstab(root, SYSTEM)
    text = fixed(root, option, shell).decode()
    assert text == SYSTEM + DEV_SHM_LINE + "\n"
    options = options_of(root / "etc/fstab", "/dev/shm")
    assert all(has_option(options, wanted) for wanted in ("nodev", "nosuid", "noexec"))


def test_a_line_already_there_gets_the_option_and_no_second_line(root: Path, shell: str) -> None:
    write_fstab(root, SYSTEM + "shm /dev/shm/ tmpfs defaults,size=1G 0 0\n")
    text = fixed(root, "noexec", shell).decode()
    assert [e.mountpoint for e in parse_fstab(text)].count("/dev/shm") == 1
    assert has_option(options_of(root / "etc/fstab", "/dev/shm"), "noexec")


def test_a_commented_line_does_not_count_and_a_missing_final_newline_is_kept_apart(
    root: Path, shell: str
) -> None:
    write_fstab(root, SYSTEM + "# tmpfs /dev/shm tmpfs defaults 0 0\nUUID=2 /home ext4 defaults 0 2")
    text = fixed(root, "nosuid", shell).decode()
    assert text.endswith("UUID=2 /home ext4 defaults 0 2\n" + DEV_SHM_LINE + "\n")


def test_a_missing_fstab_is_made_root_s_with_mode_644_holding_only_the_line(root: Path, shell: str) -> None:
    old = os.umask(0o077)  # the fix sets its own: a harden run's umask must not make fstab unreadable
    try:
        text = fixed(root, "noexec", shell).decode()
    finally:
        os.umask(old)
    assert text == DEV_SHM_LINE + "\n"
    assert (root / "etc/fstab").stat().st_mode & 0o777 == 0o644


def test_a_link_at_etc_fstab_is_refused_with_the_add_line_too(root: Path, shell: str) -> None:
    target = root / "elsewhere"
    target.write_text(SYSTEM)
    (root / "etc/fstab").symlink_to(target)
    result = run_fix(root, "/dev/shm", "noexec", shell, DEV_SHM_LINE)
    assert result.returncode == 1 and "is a link" in result.stderr
    assert target.read_text() == SYSTEM and (root / "etc/fstab").is_symlink()


@pytest.mark.parametrize(
    "line",
    [
        "tmpfs /dev/shm tmpfs defaults,nodev,nosuid 0 0",  # without the option asked for
        "tmpfs /dev/shm tmpfs noexec,exec 0 0",  # exec after it undoes it
        "tmpfs /tmp tmpfs defaults,noexec 0 0",  # another mount point
        "tmpfs /dev/shm tmpfs defaults,noexec' ; rm -rf / ; ' 0 0",  # shell words
        "tmpfs /dev/shm tmpfs defaults,noexec 0 0\ntmpfs /tmp tmpfs defaults 0 0",  # two lines
    ],
)
def test_only_a_plain_line_for_the_mount_with_the_option_is_taken(line: str) -> None:
    with pytest.raises(DataError):
        fstab_option_command("/dev/shm", "noexec", line)
