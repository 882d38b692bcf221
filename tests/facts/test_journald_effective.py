"""journald's settings as journald reads them (facts/systemd_conf.py effective_settings): the main file,
then every drop-in directory's *.conf by file name, /etc hiding the same name below it, a /dev/null link
masking it; only [Journal], keys case-sensitive, the last value winning and an empty one resetting it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.facts.systemd_conf import effective_settings
from imagevet.model import Unknown
from imagevet.target import RootfsTarget


def _write(root: Path, path: str, text: str) -> None:
    file = root / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)


def _values(root: Path) -> dict[str, str] | Unknown:
    found = effective_settings(RootfsTarget(str(root)), "journald.conf", "Journal")
    if isinstance(found, Unknown):
        return found
    return {key: f"{s.value}@{s.path}:{s.line}" for key, s in found.items()}


def test_drop_ins_win_over_the_main_file_in_name_order(tmp_path: Path) -> None:
    _write(
        tmp_path, "/etc/systemd/journald.conf", "[Journal]\n#Compress=yes\nStorage=persistent\nCompress=no\n"
    )
    _write(tmp_path, "/usr/lib/systemd/journald.conf.d/90-vendor.conf", "[Journal]\nStorage=volatile\n")
    _write(tmp_path, "/etc/systemd/journald.conf.d/10-site.conf", "[Journal]\nStorage=auto\nCompress=yes\n")
    assert _values(tmp_path) == {
        "Storage": "volatile@/usr/lib/systemd/journald.conf.d/90-vendor.conf:2",
        "Compress": "yes@/etc/systemd/journald.conf.d/10-site.conf:3",
    }


def test_an_etc_drop_in_hides_the_vendor_one_of_the_same_name_and_dev_null_masks(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/systemd/journald.conf", "[Journal]\nStorage=persistent\n")
    _write(tmp_path, "/usr/lib/systemd/journald.conf.d/90-vendor.conf", "[Journal]\nStorage=volatile\n")
    _write(tmp_path, "/etc/systemd/journald.conf.d/90-vendor.conf", "[Journal]\nSeal=yes\n")
    assert _values(tmp_path) == {
        "Storage": "persistent@/etc/systemd/journald.conf:2",
        "Seal": "yes@/etc/systemd/journald.conf.d/90-vendor.conf:2",
    }
    (tmp_path / "etc/systemd/journald.conf.d/90-vendor.conf").unlink()
    os.symlink("/dev/null", tmp_path / "etc/systemd/journald.conf.d/90-vendor.conf")
    assert _values(tmp_path) == {"Storage": "persistent@/etc/systemd/journald.conf:2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Journal]\nStorage=persistent\nStorage=\n", {}),  # empty: back to the default
        ("Storage=persistent\n", {}),  # before any section: not [Journal]
        ("[Other]\nStorage=persistent\n", {}),
        (
            "[Journal]\nstorage=persistent\n",
            {"storage": "persistent@/etc/systemd/journald.conf:2"},
        ),  # another key
        (
            "[Journal]\n ; Storage=none\n  Storage = persistent \n",
            {"Storage": "persistent@/etc/systemd/journald.conf:3"},
        ),
    ],
)
def test_the_syntax(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    _write(tmp_path, "/etc/systemd/journald.conf", text)
    assert _values(tmp_path) == expected


def test_a_file_that_cannot_be_read_is_unknown(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/systemd/journald.conf", "[Journal]\nStorage=persistent\n")
    (tmp_path / "etc/systemd/journald.conf.d").mkdir()
    (tmp_path / "etc/systemd/journald.conf.d/50-bin.conf").write_bytes(b"[Journal]\0")
    found = _values(tmp_path)
    assert isinstance(found, Unknown) and "50-bin.conf" in found.reason


def test_a_vendor_main_file_is_read_where_etc_has_none(tmp_path: Path) -> None:
    """systemd 256 and later ship the defaults in /usr/lib/systemd/journald.conf."""
    _write(tmp_path, "/usr/lib/systemd/journald.conf", "[Journal]\nCompress=yes\n")
    assert _values(tmp_path) == {"Compress": "yes@/usr/lib/systemd/journald.conf:2"}
