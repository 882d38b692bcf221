"""The dpkg reader refuses exactly what the real dpkg refuses, and lists what it lists.

Every case is a status file written here; the real ``dpkg-query --admindir`` (Debian 12's dpkg 1.21)
decides, at test time, whether dpkg reads it and what it lists; our reader must agree. The cases were
found by trying dpkg on corruptions of each rule of its parser (lib/dpkg/parse.c, fields.c).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.inventory.dpkg import read_dpkg
from imagevet.inventory.errors import InventoryError
from imagevet.target import RootfsTarget
from tests.inventory.dpkg_oracle import admindir, dpkg_available, dpkg_query

pytestmark = pytest.mark.real

H = "Maintainer: m\nDescription: d\n"
A = "Package: a\nArchitecture: amd64\n"
OK = "Status: install ok installed\n"
I = A + OK  # noqa: E741 - an installed package's first lines

CASES: dict[str, str] = {
    # structure (parse_stanza)
    "plain": I + "Version: 1.0-1\nDescription: x\n more\n .\n",
    "no_package": I + "Version: 1\n" + H + "\nVersion: 2\n" + OK + H,
    "garbage_in_stanza": I + "Version: 1\n" + H + "garbage line\n",
    "garbage_own_stanza": I + "Version: 1\n" + H + "\ngarbage line\n",
    "nul_line": I + "Version: 1\n" + H + "\0\n",
    "nul_in_value": I + "Version: 1\n" + "Maintainer: m\0x\nDescription: d\n",
    "cut_in_field_name": I + "Version: 1\nMaintainer: m\nDescri",
    "cut_after_name": I + "Version: 1\nMaintainer: m\nDescription",
    "no_final_newline": I + "Version: 1\nMaintainer: m\nDescription: x",
    "empty_field_at_eof": I + "Version: 1\n" + H + "X:\n",
    "trailing_char": I + "Version: 1\n" + H + "X",
    "trailing_char_own_stanza": I + "Version: 1\n" + H + "\n\nX",
    "leading_continuation": " " + I + "Version: 1\n" + H,
    "space_only_separator": I
    + "Version: 1\n"
    + H
    + " \nPackage: b\nArchitecture: amd64\n"
    + OK
    + "Version: 1\n"
    + H,
    "tab_only_separator": I
    + "Version: 1\n"
    + H
    + "\t\nPackage: b\nArchitecture: amd64\n"
    + OK
    + "Version: 1\n"
    + H,
    "blank_lines_at_end": I + "Version: 1\n" + H + "\n\n\n\n",
    "crlf": "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\nArchitecture: amd64\r\n" + H,
    "ctrl_z_separator": I
    + "Version: 1\n"
    + H
    + "\x1aPackage: b\nArchitecture: amd64\n"
    + OK
    + "Version: 1\n"
    + H,
    "ctrl_z_in_name": I + "Version: 1\n" + H + "Fo\x1ao: x\n",
    "hyphen_field": I + "Version: 1\n" + H + "-Foo: x\n",
    "colon_line": I + "Version: 1\n" + H + ":novalue\n",
    "space_before_colon": I + "Version  : 1\n" + H,
    "comment_line": I + "Version: 1\n" + H + "#comment\n",
    "continued_version": I
    + "Version: 1\n"
    + H
    + "\n"
    + "Package: b\nArchitecture: amd64\n"
    + OK
    + " Version: 1\n"
    + H,
    "empty": "",
    "only_newlines": "\n\n",
    "latin1_description": I + "Version: 1\nMaintainer: m\nDescription: caf\xe9\n",
    "nel_is_not_a_newline": I + "Version: 1\nMaintainer: m\x85Package: x\nDescription: d\n",
    # fields (fields.c)
    "dup_field": A + OK + OK + "Version: 1\n" + H,
    "dup_field_case": A + OK + "status: install ok installed\nVersion: 1\n" + H,
    "lowercase_field": A + OK + "version: 1\n" + H,
    "short_user_field": I + "Version: 1\nx: y\n" + H,
    "dup_user_field": I + "Version: 1\nXy: y\nxY: z\n" + H,
    "bad_want": A + "Status: bogus ok installed\nVersion: 1\n" + H,
    "short_status": A + "Status: install ok\nVersion: 1\n" + H,
    "status_empty": A + "Status:\nVersion: 1\n" + H,
    "status_four_words": A + "Status: install ok installed extra\nVersion: 1\n" + H,
    "status_prefix_words": A + "Status: installok installed\nVersion: 1\n" + H,
    "status_upper": A + "Status: INSTALL OK INSTALLED\nVersion: 1\n" + H,
    "status_spaces": A + "Status: install  ok\tinstalled\nVersion: 1\n" + H,
    "status_legacy": A + "Status: install ok postinst-failed\nVersion: 1\n" + H,
    "config_files": A + "Status: deinstall ok config-files\nVersion: 1\n" + H,
    "config_files_no_version": A + "Status: deinstall ok config-files\n" + H,
    "half_installed_no_version": A + "Status: install ok half-installed\n" + H,
    "unpacked_no_version": A + "Status: install ok unpacked\n" + H,
    "unpacked": A + "Status: install ok unpacked\nVersion: 2\n" + H,
    "half_configured": A + "Status: install reinstreq half-configured\nVersion: 2\n" + H,
    "not_installed_no_version": A + "Status: purge ok not-installed\n",
    "no_status_no_version": A + H,
    "bad_name_dash": "Package: -a\nArchitecture: amd64\n" + OK + "Version: 1\n" + H,
    "bad_name_space": "Package: a b\nArchitecture: amd64\n" + OK + "Version: 1\n" + H,
    "name_empty": "Package:\nArchitecture: amd64\n" + OK + "Version: 1\n" + H,
    "name_upper": "Package: LibFoo_1\nArchitecture: amd64\n" + OK + "Version: 1\n" + H,
    "no_arch": "Package: a\n" + OK + "Version: 1\n" + H,
    "arch_upper": "Package: a\nArchitecture: AMD64\n" + OK + "Version: 1\n" + H,
    "arch_illegal": "Package: a\nArchitecture: am_d\n" + OK + "Version: 1\n" + H,
    "multiarch_bad": I + "Version: 1\nMulti-Arch: bogus\n" + H,
    "multiarch_case": I + "Version: 1\nMulti-Arch: Same\n" + H,
    "multiarch_same_all": "Package: a\nArchitecture: all\nMulti-Arch: same\n" + OK + "Version: 1\n" + H,
    "multiarch_same_no_arch": "Package: a\nMulti-Arch: same\n" + OK + "Version: 1\n" + H,
    "essential_bad": I + "Version: 1\nEssential: maybe\n" + H,
    "essential_empty": I + "Version: 1\nEssential:\n" + H,
    "protected_bad": I + "Version: 1\nProtected: maybe\n" + H,
    "priority_junk": I + "Version: 1\nPriority: optionalx\n" + H,
    "priority_other": I + "Version: 1\nPriority: weird\n" + H,
    "archive_field": I + "Version: 1\nFilename: x\n" + H,
    "archive_field_empty": I + "Version: 1\nSize:\n" + H,
    "installed_size_text": I + "Version: 1\nInstalled-Size: abc\n" + H,
    "revision_field": I + "Version: 1\nRevision: 2\n" + H,
    "package_revision_field": I + "Version: 1\nPackage-Revision: 2\n" + H,
    "class_field": I + "Version: 1\nClass: weird\n" + H,
    "nickname_and_canon": I + "Version: 1\nRecommended: b\nRecommends: c\n" + H,
    "config_version_installed": I + "Version: 1\nConfig-Version: 1\n" + H,
    "config_version_unpacked": A + "Status: install ok unpacked\nVersion: 1\nConfig-Version: 0.9\n" + H,
    "triggers_pending_none": A + "Status: install ok triggers-pending\nVersion: 1\n" + H,
    "triggers_pending": A + "Status: install ok triggers-pending\nVersion: 1\nTriggers-Pending: foo\n" + H,
    "triggers_pending_dup": A
    + "Status: install ok triggers-pending\nVersion: 1\nTriggers-Pending: b b\n"
    + H,
    "triggers_pending_installed": I + "Version: 1\nTriggers-Pending: foo\n" + H,
    "triggers_awaited": A + "Status: install ok triggers-awaited\nVersion: 1\nTriggers-Awaited: b\n" + H,
    "triggers_awaited_colon": A
    + "Status: install ok triggers-awaited\nVersion: 1\nTriggers-Awaited: b:\n"
    + H,
    "triggers_awaited_none": A + "Status: install ok triggers-awaited\nVersion: 1\n" + H,
    # versions (parseversion)
    "version_epoch_only": I + "Version: 1:\n" + H,
    "version_letters": I + "Version: abc\n" + H,
    "version_space": I + "Version: 1 2\n" + H,
    "version_empty_revision": I + "Version: 1.0-\n" + H,
    "version_empty_upstream": I + "Version: -1\n" + H,
    "version_bad_char": I + "Version: 1.0_x\n" + H,
    "version_bad_revision_char": I + "Version: 1.0-a_b\n" + H,
    "version_empty": I + "Version:\n" + H,
    "epoch_plus": I + "Version: +1:2\n" + H,
    "epoch_zero": I + "Version: 0:2\n" + H,
    "epoch_zero_colon_kept": I + "Version: 0:1:2\n" + H,
    "epoch_negative": I + "Version: -1:2\n" + H,
    "epoch_big": I + "Version: 99999999999:2\n" + H,
    "epoch_letters": I + "Version: a:2\n" + H,
    "epoch_empty": I + "Version: :2\n" + H,
    "epoch_hex": I + "Version: 0x1:2\n" + H,
    "many_colons_hyphens": I + "Version: 1:2:3-4-5\n" + H,
    # dependencies (f_dependency)
    "depends_ok": I + "Version: 1\nDepends: b (>= 1) | c (<< 2), d (= 1:2-3)\nPre-Depends: e (<=1)\n" + H,
    "depends_arch_list": I + "Version: 1\nDepends: b:any (>= 1), c [amd64]\n" + H,
    "depends_profile": I + "Version: 1\nDepends: b <stage1>\n" + H,
    "depends_bad_relation": I + "Version: 1\nDepends: b (><1)\n" + H,
    "depends_obsolete_relation": I + "Version: 1\nDepends: b (> 1)\n" + H,
    "depends_implicit_relation": I + "Version: 1\nDepends: b (1)\n" + H,
    "depends_version_space": I + "Version: 1\nDepends: b (>= 1 2)\n" + H,
    "depends_unterminated": I + "Version: 1\nDepends: b (>= 1\n" + H,
    "depends_empty_version": I + "Version: 1\nDepends: b (>= )\n" + H,
    "depends_bad_version": I + "Version: 1\nDepends: b (>= -1)\n" + H,
    "depends_empty_arch": I + "Version: 1\nDepends: b:\n" + H,
    "depends_bad_arch": I + "Version: 1\nDepends: b:am_d\n" + H,
    "depends_two_arches": I + "Version: 1\nDepends: b:any:any\n" + H,
    "depends_empty": I + "Version: 1\nDepends:\n" + H,
    "depends_leading_comma": I + "Version: 1\nDepends: ,b\n" + H,
    "depends_trailing_comma": I + "Version: 1\nDepends: b,\n" + H,
    "depends_two_relations": I + "Version: 1\nDepends: b (>= 1)(<< 2)\n" + H,
    "depends_multiline": I + "Version: 1\nDepends: b,\n c (>= 1),\n d\n" + H,
    "depends_bad_name": I + "Version: 1\nDepends: b)\n" + H,
    "provides_relation": I + "Version: 1\nProvides: b (>= 1)\n" + H,
    "conflicts_alternative": I + "Version: 1\nConflicts: b | c\n" + H,
    "optional_nickname": I + "Version: 1\nOptional: b,\n" + H,
    # conffiles (f_conffiles)
    "conffiles_ok": I + "Version: 1\nConffiles:\n /etc/x 0123\n" + H,
    "conffiles_flags": I
    + "Version: 1\nConffiles:\n /etc/x 01 obsolete\n /etc/y 12 remove-on-upgrade\n /etc/z 12 bogus\n"
    + H,
    "conffiles_no_hash": I + "Version: 1\nConffiles:\n /etc/x\n" + H,
    "conffiles_inline": I + "Version: 1\nConffiles: /etc/x 12\n" + H,
    "conffiles_root": I + "Version: 1\nConffiles:\n / 0123\n" + H,
    "conffiles_only_flag": I + "Version: 1\nConffiles:\n /etc/x obsolete\n" + H,
    # instances (parse_find_set_slot, pkg_db_get_pkg)
    "duplicate_package": I + "Version: 1\n" + H + "\n" + I + "Version: 2\n" + H,
    "two_arches_not_same": I
    + "Version: 1\n"
    + H
    + "\nPackage: a\nArchitecture: i386\n"
    + OK
    + "Version: 2\n"
    + H,
    "multiarch_same_pair": I
    + "Multi-Arch: same\nVersion: 1\n"
    + H
    + "\nPackage: a\nArchitecture: i386\nMulti-Arch: same\n"
    + OK
    + "Version: 1\n"
    + H,
    "multiarch_same_twice": I
    + "Multi-Arch: same\nVersion: 1\n"
    + H
    + "\n"
    + I
    + "Multi-Arch: same\nVersion: 2\n"
    + H,
    "multiarch_mixed": I
    + "Version: 1\n"
    + H
    + "\nPackage: a\nArchitecture: i386\nMulti-Arch: same\n"
    + OK
    + "Version: 1\n"
    + H,
    "later_not_installed_wins": I
    + "Multi-Arch: same\nVersion: 1\n"
    + H
    + "\n"
    + A
    + "Multi-Arch: same\nStatus: deinstall ok not-installed\n",
    "earlier_not_installed": A + "Status: deinstall ok not-installed\n\n" + I + "Version: 2\n" + H,
    "selection_other_arch": "Package: a\nArchitecture: i386\nStatus: deinstall ok not-installed\n\n"
    + I
    + "Version: 2\n"
    + H,
    "name_case_collision": I
    + "Version: 1\n"
    + H
    + "\nPackage: A\nArchitecture: i386\n"
    + OK
    + "Version: 2\n"
    + H,
}


def ours(root: Path) -> set[tuple[str, str, str]] | None:
    try:
        found = read_dpkg(RootfsTarget(str(root)))
    except InventoryError:
        return None
    assert found is not None
    return {(p.name, p.arch, p.version) for p in found[0]}


@pytest.fixture(scope="module", autouse=True)
def _dpkg() -> None:
    if not dpkg_available():
        pytest.skip("dpkg-query is not installed")


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_file_read_like_dpkg(case: str, tmp_path: Path) -> None:
    directory = admindir(tmp_path, CASES[case].encode("latin-1"))
    assert ours(tmp_path) == dpkg_query(directory)


UPDATE = I + "Version: 9\n" + H


@pytest.mark.parametrize(
    ("case", "status", "updates"),
    [
        ("only_in_journal", "", {"0000": "Package: b\nArchitecture: amd64\n" + OK + "Version: 3\n" + H}),
        ("journal_overrides_status", I + "Version: 1\n" + H, {"0000": UPDATE}),
        ("journal_in_order", I + "Version: 1\n" + H, {"0001": I + "Version: 2\n" + H, "0000": UPDATE}),
        ("journal_removes", I + "Version: 1\n" + H, {"0000": A + "Status: purge ok not-installed\n"}),
        (
            "journal_crossgrade",
            I + "Version: 1\n" + H,
            {"0000": "Package: a\nArchitecture: i386\n" + OK + "Version: 2\n" + H},
        ),
        ("journal_two_stanzas", "", {"0000": UPDATE + "\n" + UPDATE.replace("Package: a", "Package: b")}),
        ("journal_empty_file", I + "Version: 1\n" + H, {"0000": ""}),
        ("journal_corrupt", I + "Version: 1\n" + H, {"0000": "Package: a\ngarbage\n"}),
        ("journal_name_lengths", I + "Version: 1\n" + H, {"0000": UPDATE, "00001": UPDATE}),
        ("journal_long_name", I + "Version: 1\n" + H, {"00000000000": UPDATE}),
        ("journal_other_names_ignored", I + "Version: 1\n" + H, {"tmp.i": "garbage", "0000.bak": "garbage"}),
    ],
)
def test_updates_journal_like_dpkg(case: str, status: str, updates: dict[str, str], tmp_path: Path) -> None:
    directory = admindir(tmp_path, status.encode(), {k: v.encode() for k, v in updates.items()})
    assert ours(tmp_path) == dpkg_query(directory)
