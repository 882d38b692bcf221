"""OS identity from the 36 real os-release files in shared/data/os-release."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.os_release import gather_os_release, os_release_from_values, parse_os_release
from imagevet.model import OsRelease, Unknown
from imagevet.target import RootfsTarget

EXPECTED_FAMILY = {
    "almalinux": "rhel",
    "alpine": "alpine",
    "amzn": "rhel",
    "azurelinux": "rhel",
    "centos": "rhel",
    "centos-stream": "rhel",
    "debian": "debian",
    "fedora": "rhel",
    "mariner": "rhel",
    "ol": "rhel",
    "openeuler": "rhel",
    "opensuse-leap": "suse",
    "photon": "photon",
    "rhel": "rhel",
    "rocky": "rhel",
    "sles": "suse",
    "tencentos": "rhel",
    "ubuntu": "debian",
    "wolfi": "wolfi",
}


def test_every_shared_os_release_parses(shared_data: Path) -> None:
    files = sorted((shared_data / "os-release").glob("*-*"))
    assert len(files) >= 36
    for path in files:
        name, _, version = path.name.rpartition("-")
        values = parse_os_release(path.read_text())
        os = os_release_from_values(values, str(path))
        assert isinstance(os, OsRelease), path
        assert os.family == EXPECTED_FAMILY[name], (path.name, os.id, os.id_like)
        assert os.version_id.startswith(version.split(".")[0]) or name in ("wolfi", "centos-stream"), (
            path.name
        )


def test_quotes_escapes_and_comments() -> None:
    values = parse_os_release('# comment\nNAME="Foo \\"Bar\\""\nID=foo\nID_LIKE="rhel fedora"\nBAD LINE\n')
    assert values == {"NAME": 'Foo "Bar"', "ID": "foo", "ID_LIKE": "rhel fedora"}
    os = os_release_from_values(values, "x")
    assert isinstance(os, OsRelease) and os.family == "rhel"


def test_fallback_to_usr_lib(tmp_path: Path) -> None:
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    os = gather_os_release(RootfsTarget(str(tmp_path)))
    assert isinstance(os, OsRelease) and os.source == "/usr/lib/os-release" and os.version_id == "12"


@pytest.mark.parametrize("content", ["", "NAME=nothing\n", b"\xff\xfe\x00binary"])
def test_missing_or_malformed_is_unknown(tmp_path: Path, content: str | bytes) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc/os-release"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert isinstance(gather_os_release(RootfsTarget(str(tmp_path))), Unknown)


def test_absent_is_unknown(tmp_path: Path) -> None:
    result = gather_os_release(RootfsTarget(str(tmp_path)))
    assert isinstance(result, Unknown) and "/etc/os-release" in result.reason


def test_variant_id_is_exposed(shared_data: Path) -> None:
    """VARIANT_ID as real files set it (Fedora's container image, Oracle Linux's server), "" when unset."""
    expected = {"fedora-42": "container", "ol-8.10": "server", "ubuntu-24.04": "", "debian-12": ""}
    for name, variant_id in expected.items():
        values = parse_os_release((shared_data / "os-release" / name).read_text())
        os = os_release_from_values(values, "/etc/os-release")
        assert isinstance(os, OsRelease) and os.variant_id == variant_id, name
