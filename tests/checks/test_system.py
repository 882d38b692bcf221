"""System checks: mandatory access control and the checks that belong to no other subject."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, audit, statuses


def test_selinux_enforcing_passes_on_rhel(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("weak-rocky9")
    (root / "etc/selinux/config").write_text("SELINUX=enforcing\nSELINUXTYPE=targeted\n")
    assert audit(root)["mac-enforcing"] is Status.FAIL  # selinux=0 on the kernel command line
    (root / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="console=tty0"\n')
    assert audit(root)["mac-enforcing"] is Status.PASS


def test_tmp_separate_by_fstab_or_tmp_mount(debian: Path) -> None:
    assert statuses(debian, ["tmp-separate"])["tmp-separate"] is Status.FAIL
    wants = debian / "usr/lib/systemd/system/local-fs.target.wants"
    wants.mkdir(parents=True)
    (wants / "tmp.mount").symlink_to("../tmp.mount")
    (debian / "usr/lib/systemd/system/tmp.mount").write_text("[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n")
    report = run_audit(RootfsTarget(str(debian)), CheckOptions(AS_OF), ["tmp-separate"])
    assert report.results[0].status is Status.PASS
    assert report.results[0].evidence[0].path == "/usr/lib/systemd/system/local-fs.target.wants/tmp.mount"


def test_core_dumps_by_limits_or_coredump_conf(debian: Path) -> None:
    assert statuses(debian, ["core-dumps-restricted"])["core-dumps-restricted"] is Status.FAIL
    (debian / "etc/systemd/coredump.conf.d").mkdir(parents=True)
    (debian / "etc/systemd/coredump.conf.d/60.conf").write_text("[Coredump]\nStorage = none\n")
    assert statuses(debian, ["core-dumps-restricted"])["core-dumps-restricted"] is Status.PASS


def test_one_filesystem_module_left_fails_naming_it(debian: Path) -> None:
    (debian / "etc/modprobe.d").mkdir()
    (debian / "etc/modprobe.d/a.conf").write_text(
        "".join(f"install {m} /bin/false\n" for m in ("cramfs", "freevxfs", "hfs", "hfsplus", "jffs2"))
    )
    report = run_audit(RootfsTarget(str(debian)), CheckOptions(AS_OF), ["filesystem-modules-disabled"])
    assert report.results[0].status is Status.FAIL
    assert report.results[0].evidence[0].detail == "not disabled in modprobe.d: udf"


def test_logging_by_a_journal_directory(debian: Path) -> None:
    assert statuses(debian, ["logging-configured"])["logging-configured"] is Status.FAIL
    (debian / "var/log/journal").mkdir(parents=True)
    assert statuses(debian, ["logging-configured"])["logging-configured"] is Status.PASS


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("install usb-storage /bin/false", Status.PASS),
        ("install usb_storage /bin/true", Status.PASS),  # modprobe reads - and _ in a module name alike
        ("blacklist usb-storage", Status.FAIL),  # blacklist alone still lets a dependency load it
        ("# install usb-storage /bin/false", Status.FAIL),
        ("install usb-storage /sbin/modprobe --ignore-install usb-storage", Status.FAIL),
    ],
)
def test_usb_storage_disabled(tmp_path: Path, line: str, expected: Status) -> None:
    (tmp_path / "etc/modprobe.d").mkdir(parents=True)
    (tmp_path / "etc/modprobe.d/usb.conf").write_text(line + "\n")
    assert statuses(tmp_path, ["kernel-module-usb-storage"]) == {"kernel-module-usb-storage": expected}


def _usb_storage(root: Path, files: dict[str, str]) -> Status:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return statuses(root, ["kernel-module-usb-storage"])["kernel-module-usb-storage"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # modprobe runs the first install line for a module, files read by name across the directories:
        (
            {
                "etc/modprobe.d/a.conf": "install usb-storage /sbin/modprobe --ignore-install usb-storage\n",
                "etc/modprobe.d/z.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        (
            {
                "lib/modprobe.d/a.conf": "install usb-storage /sbin/modprobe --ignore-install usb-storage\n",
                "etc/modprobe.d/z.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        ({"usr/lib/modprobe.d/usb.conf": "install usb-storage /bin/false\n"}, Status.PASS),
        # a file in /etc overrides the one of the same name in /lib or /usr/lib
        (
            {
                "lib/modprobe.d/usb.conf": "install usb-storage /bin/sh -c 'modprobe usb-storage'\n",
                "etc/modprobe.d/usb.conf": "install usb-storage /bin/false\n",
            },
            Status.PASS,
        ),
        (
            {"etc/modprobe.d/usb.conf": "# keep it out \\\ninstall usb-storage /bin/false\n"},
            Status.FAIL,
        ),  # one comment
        ({"etc/modprobe.d/usb.conf": "install usb-storage \\\n/bin/false\n"}, Status.PASS),
        ({"etc/modprobe.d/usb.conf": "install usb* /bin/false\n"}, Status.PASS),  # kmod matches patterns
        (
            {
                "etc/modprobe.d/usb.conf": "install usb-storage /bin/false\n",
                "etc/modprobe.d/x.txt": "install usb-storage /bin/sh\n",
            },
            Status.PASS,
        ),
    ],
)
def test_usb_storage_read_as_kmod_reads_modprobe_d(
    tmp_path: Path, files: dict[str, str], expected: Status
) -> None:
    assert _usb_storage(tmp_path, files) is expected


def test_an_unreadable_modprobe_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc/modprobe.d/usb.conf").mkdir(parents=True)
    result = statuses(tmp_path, ["kernel-module-usb-storage", "filesystem-modules-disabled"])
    assert result == {"kernel-module-usb-storage": Status.ERROR, "filesystem-modules-disabled": Status.ERROR}


LOADS = "/sbin/modprobe --ignore-install usb-storage"  # what an install line runs to load the module anyway


@pytest.mark.parametrize(
    ("files", "expected"),
    [  # found by the red-team, each confirmed with kmod 30's modprobe -n -v
        ({"etc/modprobe.d/a.conf": f"install usb-storage /bin/true && {LOADS}\n"}, Status.FAIL),
        ({"etc/modprobe.d/a.conf": f"install usb-storage /bin/false ; {LOADS}\n"}, Status.FAIL),
        ({"etc/modprobe.d/a.conf": "install usb-storage /bin/false # CIS\n"}, Status.PASS),  # a shell comment
        # "\\\\" is one backslash: the comment ends there and the loading line is read
        (
            {
                "etc/modprobe.d/a.conf": f"# note \\\\\ninstall usb-storage {LOADS}\n",
                "etc/modprobe.d/b.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        ({"etc/modprobe.d/a.conf": "install usb-storage /bin/fal\\se\n"}, Status.PASS),  # \s is s
        ({"etc/modprobe.d/a.conf": "install usb[-]storage /bin/false\n"}, Status.FAIL),  # [-] is not _
        (
            {
                "etc/modprobe.d/a.conf": f"install usb[^x]storage {LOADS}\n",  # glibc's [^x] negates
                "etc/modprobe.d/b.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        (
            {
                "etc/modprobe.d/a.alias": f"install usb-storage {LOADS}\n",  # .alias files are read
                "etc/modprobe.d/b.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        ({"run/modprobe.d/cis.conf": "install usb-storage /bin/false\n"}, Status.FAIL),  # /run: empty at boot
        # the second red-team, confirmed with kmod 30: kmod splits at space and tab only
        ({"etc/modprobe.d/a.conf": "install\u00a0usb-storage /bin/false\n"}, Status.FAIL),
        ({"etc/modprobe.d/a.conf": "install usb-storage\u00a0/bin/false\n"}, Status.FAIL),
        ({"etc/modprobe.d/a.conf": "install\vusb-storage /bin/false\n"}, Status.FAIL),
        ({"etc/modprobe.d/a.conf": "install\tusb-storage\t/bin/false\n"}, Status.PASS),
        ({"etc/modprobe.d/a.conf": "install usb[]-]storage /bin/false\n"}, Status.FAIL),  # a stray ]: ignored
        # the third red-team, confirmed with kmod 30: \\- in brackets is a plain -, a reversed range is
        # empty but the other members count
        ({"etc/modprobe.d/a.conf": "install usb[a\\\\-z]storage /bin/false\n"}, Status.FAIL),
        (
            {
                "etc/modprobe.d/a.conf": f"install usb[z-a_]storage {LOADS}\n",
                "etc/modprobe.d/b.conf": "install usb-storage /bin/false\n",
            },
            Status.FAIL,
        ),
        ({"etc/modprobe.d/a.conf": "install usb[z-a_]storage /bin/false\n"}, Status.PASS),
        (
            {"etc/modprobe.d/a.conf": "install usb[[:punct:]]storage /bin/false\n"},
            Status.FAIL,
        ),  # kmod: bad line
        (
            {"etc/modprobe.d/a.conf": "install usb[_[:alpha:]]storage /bin/false\n"},
            Status.FAIL,
        ),  # a stray ] after the first: kmod ignores the line
        ({"etc/modprobe.d/a.conf": "install usb[z-a]storage /bin/false\n"}, Status.FAIL),  # no crash: ignored
        (
            {"etc/modprobe.d/a.conf": "install usb[_x]storage /bin/false\n"},
            Status.PASS,
        ),  # a class with _, matched
    ],
)
def test_modprobe_d_fail_opens_found_by_the_red_team(
    tmp_path: Path, files: dict[str, str], expected: Status
) -> None:
    assert _usb_storage(tmp_path, files) is expected


def test_a_long_continued_modprobe_line_is_read_in_linear_time(tmp_path: Path) -> None:
    (tmp_path / "etc/modprobe.d").mkdir(parents=True)
    (tmp_path / "etc/modprobe.d/a.conf").write_text(
        "a\\\n" * 1_300_000 + "\ninstall usb-storage /bin/false\n"
    )
    started = time.monotonic()
    assert statuses(tmp_path, ["kernel-module-usb-storage"]) == {"kernel-module-usb-storage": Status.PASS}
    assert time.monotonic() - started < 5


def test_many_install_lines_are_matched_quickly(tmp_path: Path) -> None:
    (tmp_path / "etc/modprobe.d").mkdir(parents=True)
    lines = "".join(f"install m{n} /bin/false\n" for n in range(150_000))  # 4 MB, distinct names
    (tmp_path / "etc/modprobe.d/a.conf").write_text(lines + "install usb-storage /bin/false\n")
    started = time.monotonic()
    assert _usb_storage(tmp_path, {}) is Status.PASS
    assert time.monotonic() - started < 5


def test_mac_enforcing_on_rhel_is_an_error_when_a_boot_entry_cannot_be_read(tmp_path: Path) -> None:
    """A boot entry that was not read may carry selinux=0: the check cannot pass without it."""
    (tmp_path / "etc/selinux").mkdir(parents=True)
    (tmp_path / "etc/selinux/config").write_text("SELINUX=enforcing\nSELINUXTYPE=targeted\n")
    (tmp_path / "etc/os-release").write_text('ID="rhel"\nVERSION_ID="9.4"\n')
    entries = tmp_path / "boot/loader/entries"
    entries.mkdir(parents=True)
    for n in range(1001):
        (entries / f"{n}.conf").write_text("options quiet\n")
    report = run_audit(RootfsTarget(str(tmp_path)), CheckOptions(AS_OF),
                       ["mac-enforcing", "selinux-boot-enabled"])  # fmt: skip
    assert [r.status for r in report.results] == [Status.ERROR, Status.ERROR]
