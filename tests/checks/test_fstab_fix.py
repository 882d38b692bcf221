"""The mount-option fix (checks/fstab_fix.py) run for real: /bin/sh and this machine's awk (Debian's mawk,
as in the images), and BusyBox's sh and applets alone (as in Alpine images; Debian's busybox package,
installed by dev.sh), on a scratch root whose /etc/fstab is written by each test. Every result is read
back with the same reader the audit uses (facts/mounts.py and values.has_option), and a second run must
leave the file byte for byte, owner and mode as they were."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from imagevet.checks.fstab_fix import fstab_option_command
from imagevet.checks.metadata import builtin_metadata
from imagevet.errors import DataError
from imagevet.facts.mounts import has_option, parse_fstab

DEV_SHM_LINE = "tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0"
BUSYBOX_APPLETS = "sh awk tr cmp mktemp rm wc tail stat chown chmod mv".split()


@pytest.fixture(scope="session")
def busybox_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH holding BusyBox's applets and nothing else, so no GNU tool stands in for one."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox is not installed (./dev.sh test installs it)")
    folder = tmp_path_factory.mktemp("busybox")
    for applet in BUSYBOX_APPLETS:
        (folder / applet).symlink_to(busybox)
    return str(folder)


@pytest.fixture(params=["mawk", "busybox"])
def shell(request: pytest.FixtureRequest) -> str:
    """Where the command runs: an empty string for /bin/sh with this machine's tools, or BusyBox's PATH."""
    return "" if request.param == "mawk" else str(request.getfixturevalue("busybox_path"))


def run_fix(
    root: Path, mount: str, option: str, path: str = "", add: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a harden script runs it, with /etc made relative to ``root``; with ``path``, by
    BusyBox's sh with only the applets found there."""
    command = fstab_option_command(mount, option, add).replace("/etc/fstab", f"{root}/etc/fstab")
    argv, env = ["sh", "-c", command], None
    if path:
        argv, env = [f"{path}/sh", "-c", command], {"PATH": path}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    return tmp_path


def write_fstab(root: Path, text: str, mode: int = 0o644) -> Path:
    fstab = root / "etc/fstab"
    fstab.write_text(text)
    fstab.chmod(mode)
    return fstab


def options_of(fstab: Path, mount: str) -> tuple[str, ...]:
    entries = [e for e in parse_fstab(fstab.read_text()) if e.mountpoint == mount]
    return entries[-1].options


LOOSE = (
    "# /etc/fstab: static file system information.\n"
    "UUID=1 / ext4 errors=remount-ro 0 1\n"
    "UUID=2  /tmp/  ext4  defaults,dev   0 2\n"
    "tmpfs //var/tmp tmpfs exec\n"
    "UUID=3 /home ext4\n"
    "# UUID=4 /tmp ext4 defaults 0 2\n"
)


@pytest.mark.parametrize(
    ("mount", "option"),
    [("/tmp", "nodev"), ("/tmp", "noexec"), ("/var/tmp", "noexec"), ("/home", "nosuid"), ("/home", "nodev")],
)
def test_the_option_then_holds_as_mount_reads_it_and_a_second_run_changes_nothing(
    root: Path, shell: str, mount: str, option: str
) -> None:
    fstab = write_fstab(root, LOOSE, 0o640)
    first = run_fix(root, mount, option, shell)
    assert first.returncode == 0, first.stderr
    assert has_option(options_of(fstab, mount), option)
    after = fstab.read_bytes()
    others = [line for line in LOOSE.splitlines() if line not in after.decode().splitlines()]
    assert len(others) == 1  # only the mount point's own line changed; the comment naming /tmp did not
    assert fstab.stat().st_mode & 0o777 == 0o640
    second = run_fix(root, mount, option, shell)
    assert second.returncode == 0 and fstab.read_bytes() == after
    assert sorted(os.listdir(root / "etc")) == ["fstab"]  # no temporary file left


def test_every_option_of_one_line_converges_whatever_the_order(root: Path, shell: str) -> None:
    fstab = write_fstab(root, LOOSE)
    for option in ("nodev", "nosuid", "noexec", "nodev"):
        assert run_fix(root, "/tmp", option, shell).returncode == 0
    assert options_of(fstab, "/tmp") == ("defaults", "nodev", "nosuid", "noexec")
    once = fstab.read_bytes()
    for option in ("noexec", "nosuid", "nodev"):  # each already holds: the line is left as it is
        assert run_fix(root, "/tmp", option, shell).returncode == 0
        assert fstab.read_bytes() == once


def test_a_line_where_the_option_already_holds_is_left_as_written(root: Path, shell: str) -> None:
    lines = (
        "a /tmp  tmpfs  nodev,dev,nodev,size=1G  0 0\nb /var tmpfs nodev,defaults\nc /home ext4 user,exec\n"
    )
    fstab = write_fstab(root, lines)
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert run_fix(root, "/var", "nodev", shell).returncode == 0  # defaults after nodev leaves it set
    assert run_fix(root, "/home", "nosuid", shell).returncode == 0  # user implies it; exec is another
    assert fstab.read_text() == lines
    assert run_fix(root, "/home", "noexec", shell).returncode == 0  # exec after user undid it
    assert options_of(fstab, "/home") == ("user", "noexec")


def test_every_line_of_the_mount_point_is_fixed_and_a_line_without_a_type_is_left(
    root: Path, shell: str
) -> None:
    fstab = write_fstab(root, "a /var ext4 defaults 0 2\nb /var ext4 suid 0 2\nc /var\n")
    assert run_fix(root, "/var", "nosuid", shell).returncode == 0
    lines = fstab.read_text().splitlines()
    assert lines[0].split()[3] == "defaults,nosuid" and lines[1].split()[3] == "nosuid"
    assert lines[2] == "c /var"


def test_no_fstab_is_left_missing(root: Path, shell: str) -> None:
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert not (root / "etc/fstab").exists()


def test_a_link_at_etc_fstab_is_a_failure_and_stays_a_link(root: Path, shell: str) -> None:
    """A link is not replaced by a file (imagevet_write refuses it too): it may be how the image shares
    one fstab, and the rename would silently cut it."""
    (root / "fstab.real").write_text(LOOSE)
    (root / "etc/fstab").symlink_to(root / "fstab.real")
    proc = run_fix(root, "/tmp", "nodev", shell)
    assert proc.returncode != 0 and "is a link; left as it is" in proc.stderr
    assert (root / "etc/fstab").is_symlink() and (root / "fstab.real").read_text() == LOOSE
    assert sorted(os.listdir(root / "etc")) == ["fstab"]


def test_a_link_planted_where_a_temporary_could_be_is_never_written_through(root: Path, shell: str) -> None:
    """The copy is a new file made by mktemp, so a link at a guessable name (an image's planted
    /etc/fstab.imagevet-new pointing at /etc/shadow) is not followed."""
    write_fstab(root, LOOSE)
    victim = root / "shadow"
    victim.write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/fstab.imagevet-new").symlink_to(victim)
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert victim.read_text() == "root:*:19000:0:99999:7:::\n"
    assert has_option(options_of(root / "etc/fstab", "/tmp"), "nodev")


@pytest.mark.parametrize(("mount", "option"), [("tmp", "nodev"), ("/tmp; rm -rf /", "nodev"), ("/tmp", "ro")])
def test_only_a_plain_mount_point_and_a_cis_option_make_a_command(mount: str, option: str) -> None:
    with pytest.raises(DataError):
        fstab_option_command(mount, option)


def test_every_mount_option_row_is_fixed_by_the_command_for_its_own_mount_and_option() -> None:
    rows = {c: m for c, m in builtin_metadata().items() if m.value and m.value[0].fact == "mounts"}
    assert len(rows) == 19
    for meta in rows.values():
        row = meta.value[0]
        (step,) = meta.remediation_for("debian")
        add = DEV_SHM_LINE if row.keys[0] == "/dev/shm" else None  # systemd mounts it without a line
        assert step.kind == "command" and step.text == fstab_option_command(row.keys[0], str(row.want), add)


def test_a_crlf_fstab_keeps_its_line_ends_and_the_audit_reads_the_option_as_the_fix_wrote_it(
    root: Path, shell: str
) -> None:
    """libmount drops a carriage return before the newline; the fix drops it while it edits and puts it
    back, so the option is not glued to a ``\\r`` (which mount would not know) and the file stays CRLF."""
    fstab = write_fstab(root, "a / ext4 defaults 0 1\r\nb /tmp ext4 defaults\r\n")
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert fstab.read_bytes() == b"a / ext4 defaults 0 1\r\nb\t/tmp\text4\tdefaults,nodev\r\n"
    assert options_of(fstab, "/tmp") == ("defaults", "nodev")
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert fstab.read_bytes() == b"a / ext4 defaults 0 1\r\nb\t/tmp\text4\tdefaults,nodev\r\n"


def test_a_file_without_a_final_newline_is_not_rewritten_when_the_option_holds(
    root: Path, shell: str
) -> None:
    fstab = write_fstab(root, "a /tmp ext4 nodev 0 2")
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert fstab.read_bytes() == b"a /tmp ext4 nodev 0 2"
    assert run_fix(root, "/tmp", "nosuid", shell).returncode == 0  # a change: every line kept, then ended
    assert fstab.read_bytes() == b"a\t/tmp\text4\tnodev,nosuid\t0\t2\n"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda f: f.write_bytes(b"a /tmp ext4 defaults\x00 0 2\n"), "holds a NUL byte"),
        (lambda f: f.mkdir(), "is not a regular file"),
        (lambda f: os.mkfifo(f), "is not a regular file"),
        (lambda f: f.write_text(f"a /tmp ext4 {'x,' * 40000}dev 0 2\n"), "has a line over 64 KiB"),
    ],
    ids=["nul", "directory", "fifo", "long-line"],
)
def test_what_cannot_be_an_fstab_fails_by_name_and_is_left_as_it_is(
    root: Path, shell: str, make: object, said: str
) -> None:
    fstab = root / "etc/fstab"
    make(fstab)  # type: ignore[operator]
    before = fstab.read_bytes() if fstab.is_file() else None
    started = time.monotonic()
    proc = run_fix(root, "/tmp", "nodev", shell)
    assert proc.returncode != 0 and f"{fstab} {said}; left as it is" in proc.stderr
    assert time.monotonic() - started < 10
    assert before is None or fstab.read_bytes() == before
    assert sorted(os.listdir(root / "etc")) == ["fstab"]  # no copy left behind


def test_a_copy_that_came_out_short_is_not_renamed_over_the_fstab(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """BusyBox's awk exits 0 after a failed write (a full disk): the copy is then short. A stand-in awk
    that writes one line and exits 0 is that awk; the line count catches it and the copy is removed."""
    fstab = write_fstab(root, LOOSE)
    bin_dir = tmp_path_factory.mktemp("short-awk")
    (bin_dir / "awk").write_text('#!/bin/sh\nfor last; do :; done\nhead -n 1 "$last"\n')
    (bin_dir / "awk").chmod(0o755)
    command = fstab_option_command("/tmp", "nodev").replace("/etc/fstab", f"{root}/etc/fstab")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode != 0 and "was not copied whole; left as it is" in proc.stderr
    assert fstab.read_text() == LOOSE
    assert sorted(os.listdir(root / "etc")) == ["fstab"]


@pytest.mark.parametrize("blank", ["\v", "\f", "\x1c", "\u0085", "\u2028", "\u00a0"])
def test_the_audit_splits_fields_where_the_fix_does_at_spaces_and_tabs_only(
    root: Path, shell: str, blank: str
) -> None:
    """Python's str.split() and splitlines() break at more characters than libmount and awk do; a line
    ``a /tmp<blank>x ext4 ...`` names the mount point ``/tmp<blank>x`` to both, not /tmp."""
    text = f"a /tmp{blank}x ext4 defaults 0 2\nb /tmp ext4 nodev 0 2\n"
    entries = parse_fstab(text)
    assert [e.mountpoint for e in entries] == [f"/tmp{blank}x", "/tmp"]
    fstab = write_fstab(root, text)
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert fstab.read_text() == text  # the fix saw the same two mount points, and /tmp already holds


def test_a_mount_point_written_with_dots_and_doubled_slashes_is_the_one_the_audit_names(
    root: Path, shell: str
) -> None:
    fstab = write_fstab(root, "a /./tmp/. ext4 defaults 0 2\nb /tmpx ext4 defaults 0 2\n")
    assert run_fix(root, "/tmp", "nodev", shell).returncode == 0
    assert options_of(fstab, "/tmp") == ("defaults", "nodev")
    assert options_of(fstab, "/tmpx") == ("defaults",)
