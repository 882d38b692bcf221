"""/tmp and /dev/shm mounts: fstab entries (first wins, comments skipped, short lines tolerated),
tmp.mount links, and systemd's own /dev/shm mount."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.facts.mounts import FstabEntry, gather_mounts, parse_fstab
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

FSTAB = """\
# /etc/fstab: static file system information (Debian 12 installer layout).
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1
UUID=0a1b2c3d-0000-4000-8000-000000000002 none            swap    sw              0       0
tmpfs /tmp tmpfs defaults,nodev,nosuid 0 0
/dev/sr0 /tmp
"""


def test_fstab_syntax() -> None:
    entries = parse_fstab(FSTAB)
    assert [e.mountpoint for e in entries] == ["/", "none", "/tmp", "/tmp"]
    assert entries[2] == FstabEntry("/tmp", "tmpfs", 5, ("defaults", "nodev", "nosuid"))
    assert entries[3].fstype == "?" and entries[3].options == ("defaults",)


def test_the_overlay_fixture_and_the_first_tmp_line() -> None:
    mounts = gather_mounts(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert mounts.entry("/tmp") == FstabEntry("/tmp", "tmpfs", 1, ("defaults", "nodev", "nosuid", "noexec"))
    assert mounts.tmp_mount_units == () and mounts.tmp_mount_options is None


def test_tmp_mount_enabled(tmp_path: Path) -> None:
    wants = tmp_path / "etc/systemd/system/local-fs.target.wants"
    wants.mkdir(parents=True)
    (wants / "tmp.mount").symlink_to("/usr/lib/systemd/system/tmp.mount")
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/system/tmp.mount").write_text("[Mount]\nWhat=tmpfs\nWhere=/tmp\n")
    mounts = gather_mounts(RootfsTarget(str(tmp_path)))
    assert mounts.tmp_mount_units == ("/etc/systemd/system/local-fs.target.wants/tmp.mount",)
    assert mounts.entry("/tmp") is None


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_fstab_has_no_entries_and_says_why(tmp_path: Path, kind: str) -> None:
    """Binary, too large, or a link that leads nowhere inside the image: an fstab is there and unread,
    which the mount checks report as an error (values.mount_table), not as "no separate mount"."""
    plant(tmp_path, "/etc/fstab", kind)
    mounts = gather_mounts(RootfsTarget(str(tmp_path)))
    assert mounts.fstab == () and mounts.fstab_error and "/etc/fstab" in mounts.fstab_error


@pytest.mark.parametrize(
    "make",
    [lambda f: f.write_bytes(b"UUID=1 /tmp ext4 nodev\xff 0 2\n"), lambda f: f.mkdir()],
    ids=["not-utf8", "directory"],
)
def test_an_fstab_that_is_there_but_unreadable_is_an_error_for_every_mount_check(
    tmp_path: Path, make: object
) -> None:
    (tmp_path / "etc").mkdir()
    make(tmp_path / "etc/fstab")  # type: ignore[operator]
    mounts = gather_mounts(RootfsTarget(str(tmp_path)))
    assert mounts.fstab_error is not None
    checks = ["mount-tmp-nodev", "tmp-separate"]
    results = run_audit(RootfsTarget(str(tmp_path)), CheckOptions(date(2026, 12, 1)), checks).results
    assert [(r.check, r.status) for r in results] == [(c, Status.ERROR) for c in checks]
    assert all("/etc/fstab" in str(r.evidence[0]) for r in results)


def test_no_fstab_at_all_has_no_entries_and_no_error(tmp_path: Path) -> None:
    mounts = gather_mounts(RootfsTarget(str(tmp_path)))
    assert mounts.fstab == () and mounts.fstab_error is None


def test_lines_split_at_newlines_and_fields_at_spaces_and_tabs_as_libmount_does() -> None:
    text = "a /./tmp/. ext4 nodev 0 2\r\nb\t/var\vx ext4 defaults\x1c0\n\f# c /home ext4 defaults\n"
    entries = parse_fstab(text)
    assert [(e.mountpoint, e.fstype, e.line, e.options) for e in entries] == [
        ("/tmp", "ext4", 1, ("nodev",)),
        ("/var\vx", "ext4", 2, ("defaults\x1c0",)),
        ("c", "/home", 3, ("ext4",)),  # a form feed is not a blank: "\f#" is no comment
    ]


def test_tmp_mount_options_come_from_the_unit_systemd_loads() -> None:
    mounts = gather_mounts(RootfsTarget(str(FIXTURES / "cases/tmp-mount-unit")))
    options, path = mounts.tmp_mount_options  # type: ignore[misc]
    assert "nosuid" in options and "nodev" in options and "noexec" not in options
    assert path == "/usr/lib/systemd/system/tmp.mount"


def test_unit_options_last_assignment_in_mount_section_wins() -> None:
    from imagevet.facts.mounts import parse_unit_options

    text = "[Unit]\nOptions=noexec\n[Mount]\nOptions=nodev\nOptions=nosuid,nodev\n"
    assert parse_unit_options(text) == ("nosuid", "nodev")


def test_a_drop_in_for_tmp_mount_makes_its_options_unknown(tmp_path: Path) -> None:
    import shutil

    from imagevet.model import Unknown

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "cases/tmp-mount-unit", root, symlinks=True)
    (root / "etc/systemd/system/tmp.mount.d").mkdir()
    found = gather_mounts(RootfsTarget(str(root))).tmp_mount_options
    assert isinstance(found, Unknown) and "tmp.mount.d" in found.reason


def test_unit_syntax_spaces_continuations_comments_and_reset() -> None:
    from imagevet.facts.mounts import parse_unit_options

    assert parse_unit_options("[Mount]\nOptions = nodev , nosuid\n") == ("nodev ", " nosuid")
    continued = "[Mount]\nOptions=nodev\nX-Note=a \\\nOptions=noexec\n# Options=nosuid\n"
    assert parse_unit_options(continued) == ("nodev",)  # the continued line belongs to X-Note
    assert parse_unit_options("[Mount]\nOptions=nodev\nOptions=\n") == ()


def test_the_first_fstab_line_of_a_mount_point_is_the_effective_one_and_paths_are_normalised() -> None:
    """systemd-fstab-generator keeps the first of duplicate lines ("Duplicate entry"), and a remount reads
    the first (the red-team of session 29: the last line's nodev,nosuid,noexec passed, the first's held)."""
    from imagevet.facts.mounts import Mounts

    entries = tuple(parse_fstab("tmpfs /tmp/ tmpfs nodev 0 0\ntmpfs //tmp tmpfs nodev,nosuid,noexec 0 0\n"))
    mounts = Mounts(entries, ())
    assert [e.mountpoint for e in entries] == ["/tmp", "/tmp"]
    assert mounts.entry("/tmp") == entries[0] and mounts.effective("/tmp") == entries[0]


@pytest.mark.parametrize(
    ("options", "holding"),
    [
        ("nodev,nosuid,noexec,defaults", {"nodev", "nosuid", "noexec"}),  # defaults sets none of them back
        ('x-foo="a,noexec,nodev,nosuid,b"', set()),  # inside quotes: one option, none of the three
        ('context="system_u:object_r:tmp_t:s0:c0,c1",nodev', {"nodev"}),
        ("exec,user", {"nodev", "nosuid", "noexec"}),  # user implies all three, after exec
        ("user,exec", {"nodev", "nosuid"}),  # exec after it undoes its noexec
        ("owner", {"nodev", "nosuid"}),
        ("group,suid", {"nodev"}),
    ],
)
def test_options_are_read_as_libmount_reads_them(options: str, holding: set[str]) -> None:
    from imagevet.facts.mounts import has_option

    (entry,) = parse_fstab(f"tmpfs /dev/shm tmpfs {options} 0 0\n")
    assert {o for o in ("nodev", "nosuid", "noexec") if has_option(entry.options, o)} == holding


@pytest.mark.parametrize("folder", ["usr/local/lib/systemd/system", "etc/systemd/system/mount.d"])
def test_unit_search_path_and_mount_type_drop_ins(folder: str, tmp_path: Path) -> None:
    import shutil

    from imagevet.model import Unknown

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "cases/tmp-mount-unit", root, symlinks=True)
    if folder.endswith("mount.d"):
        (root / folder).mkdir(parents=True)
        found = gather_mounts(RootfsTarget(str(root))).tmp_mount_options
        assert isinstance(found, Unknown) and "mount.d" in found.reason
        return
    (root / folder).mkdir(parents=True)  # /usr/local/lib comes before /usr/lib in systemd's search path
    (root / folder / "tmp.mount").write_text("[Mount]\nWhat=tmpfs\nWhere=/tmp\nOptions=mode=1777\n")
    assert gather_mounts(RootfsTarget(str(root))).tmp_mount_options == (
        (("mode=1777",), f"/{folder}/tmp.mount")
    )


DEV_SHM_CHECKS = ["dev-shm-separate", "mount-dev-shm-nodev", "mount-dev-shm-nosuid", "mount-dev-shm-noexec"]


def dev_shm_statuses(root: Path) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(date(2026, 11, 28)), DEV_SHM_CHECKS)
    return {r.check: r.status for r in report.results}


@pytest.mark.parametrize("program", ["usr/lib/systemd/systemd", "lib/systemd/systemd"])
def test_with_systemd_and_no_line_dev_shm_has_systemds_own_options(tmp_path: Path, program: str) -> None:
    (tmp_path / program).parent.mkdir(parents=True)
    (tmp_path / program).write_bytes(b"")
    mounts = gather_mounts(RootfsTarget(str(tmp_path)))
    assert mounts.without_fstab("/dev/shm") == (
        ("nosuid", "nodev", "strictatime", "mode=1777"),
        "/" + program,
    )
    assert dev_shm_statuses(tmp_path) == {
        "dev-shm-separate": Status.PASS,
        "mount-dev-shm-nodev": Status.PASS,
        "mount-dev-shm-nosuid": Status.PASS,
        "mount-dev-shm-noexec": Status.FAIL,
    }


def test_an_fstab_line_for_dev_shm_replaces_systemds_options(tmp_path: Path) -> None:
    """systemd-remount-fs remounts /dev/shm with the line's options: ``defaults`` drops nosuid and nodev."""
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/systemd").write_bytes(b"")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/fstab").write_text("tmpfs /dev/shm tmpfs defaults,noexec 0 0\n")
    assert dev_shm_statuses(tmp_path) == {
        "dev-shm-separate": Status.PASS,
        "mount-dev-shm-nodev": Status.FAIL,
        "mount-dev-shm-nosuid": Status.FAIL,
        "mount-dev-shm-noexec": Status.PASS,
    }


@pytest.mark.parametrize("unit", ["etc/systemd/system/dev-shm.mount", "usr/lib/systemd/system/mount.d"])
def test_a_dev_shm_unit_of_the_images_own_leaves_the_options_unknown(tmp_path: Path, unit: str) -> None:
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/systemd").write_bytes(b"")
    (tmp_path / unit).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / unit).mkdir() if unit.endswith(".d") else (tmp_path / unit).write_text(
        "[Mount]\nOptions=exec\n"
    )
    report = run_audit(RootfsTarget(str(tmp_path)), CheckOptions(date(2026, 11, 28)), DEV_SHM_CHECKS)
    results = {r.check: r for r in report.results}
    assert results["dev-shm-separate"].status is Status.PASS  # mounted it is, by systemd
    for check in DEV_SHM_CHECKS[1:]:
        assert results[check].status is Status.ERROR
        assert "is not read" in results[check].evidence[0].detail


def test_without_systemd_or_a_line_dev_shm_is_not_known_to_be_mounted(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    assert gather_mounts(RootfsTarget(str(tmp_path))).without_fstab("/dev/shm") is None
    statuses = dev_shm_statuses(tmp_path)
    assert statuses == {"dev-shm-separate": Status.FAIL, **dict.fromkeys(DEV_SHM_CHECKS[1:], Status.SKIP)}


def test_a_unit_directory_that_cannot_be_listed_leaves_dev_shm_unknown(tmp_path: Path) -> None:
    """A link loop where /etc/systemd/system should be: a dev-shm.mount there could not be seen."""
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/systemd").write_bytes(b"")
    (tmp_path / "etc/systemd").mkdir(parents=True)
    (tmp_path / "etc/systemd/system").symlink_to("system")
    statuses = dev_shm_statuses(tmp_path)
    assert statuses["dev-shm-separate"] is Status.PASS  # systemd mounts it, whatever its options
    assert [statuses[c] for c in DEV_SHM_CHECKS[1:]] == [Status.ERROR] * 3
