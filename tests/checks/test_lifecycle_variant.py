"""os-variant: the guide's checklist item on /etc/os-release's VARIANT_ID, one test per outcome."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.catalog.model import Catalog
from imagevet.checks.base import CheckOptions
from imagevet.model import CheckResult, Status
from imagevet.target import RootfsTarget
from tests.checks.catalogs import catalog, release, tier
from tests.conftest import FIXTURES

AS_OF = dt.date(2026, 12, 2)
FREE = (tier("standard", AS_OF + dt.timedelta(days=2000)),)
NOBLE = release("ubuntu-24.04", "ubuntu", "24.04", "debian", FREE, name="Ubuntu 24.04 LTS")
QUESTING = release("ubuntu-25.10", "ubuntu", "25.10", "debian", FREE, lts=False, name="Ubuntu 25.10")
OL8 = release("ol-8", "ol", "8", "rhel", FREE, variant_ids=("server",), name="Oracle Linux 8")
FEDORA = release(
    "fedora-42", "fedora", "42", "rhel", FREE, lts=False, variant_ids=("workstation", "server", "container")
)
ROCKY9 = release("rocky-9", "rocky", "9", "rhel", FREE, name="Rocky Linux 9")

# The os-release lines that matter, as the vendors' files have them (ubuntu 24.04: base-files 13ubuntu10;
# Oracle Linux 8.10: oraclelinux-release; Fedora 42 Workstation: fedora-release-workstation).
NOBLE_TEXT = (
    'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04.3 LTS"\n'
)
OL_TEXT = 'NAME="Oracle Linux Server"\nVERSION="8.10"\nID="ol"\nID_LIKE="fedora"\nVARIANT="Server"\n'
OL_TEXT += 'VARIANT_ID="server"\nVERSION_ID="8.10"\nPRETTY_NAME="Oracle Linux Server 8.10"\n'
FEDORA_TEXT = 'NAME="Fedora Linux"\nVERSION="42 (Workstation Edition)"\nID=fedora\nVERSION_ID=42\n'
FEDORA_TEXT += 'PRETTY_NAME="Fedora Linux 42 (Workstation Edition)"\nVARIANT="Workstation Edition"\n'
FEDORA_TEXT += "VARIANT_ID=workstation\n"


def root_with(tmp_path: Path, os_release: str) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/os-release").write_text(os_release)
    return root


def variant(root: Path, cat: Catalog) -> CheckResult:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF, catalog=cat), ["os-variant"])
    return report.results[0]


def shown(found: CheckResult) -> str:
    return " | ".join(str(e) for e in found.evidence)


def test_in_the_checklist_beside_os_lts() -> None:
    checklist = select_checks(None)
    assert checklist.index("os-variant") == checklist.index("os-lts") + 1


def test_vendor_sets_none_and_the_release_is_lts_passes_with_a_note(tmp_path: Path) -> None:
    found = variant(root_with(tmp_path, NOBLE_TEXT), catalog(NOBLE))
    assert found.status is Status.PASS
    assert "no VARIANT_ID" in shown(
        found
    ) and "note: Ubuntu 24.04 LTS's vendor does not set VARIANT_ID" in shown(found)


def test_rocky_fixture_sets_none() -> None:
    assert variant(FIXTURES / "rootfs/weak-rocky9", catalog(ROCKY9)).status is Status.PASS


def test_interim_ubuntu_fails_listed_or_by_rule() -> None:
    root = FIXTURES / "rootfs/ubuntu2510"
    listed = variant(root, catalog(QUESTING))
    assert listed.status is Status.FAIL and "an interim (not long-term-support) release" in shown(listed)
    by_rule = variant(root, catalog(NOBLE))  # 25.10 not listed: Ubuntu's rule says YY.10 is not LTS
    assert by_rule.status is Status.FAIL and "not a long-term-support release" in shown(by_rule)


def test_fedora_workstation_fails(tmp_path: Path) -> None:
    root = root_with(tmp_path, FEDORA_TEXT)
    found = variant(root, catalog(FEDORA))
    assert found.status is Status.FAIL and "VARIANT_ID=workstation" in shown(found)
    assert variant(root, catalog()).status is Status.FAIL  # unlisted: Fedora's rule, never LTS


def test_a_vendor_value_passes(tmp_path: Path) -> None:
    found = variant(root_with(tmp_path, OL_TEXT), catalog(OL8))
    assert found.status is Status.PASS and "one of the values its vendor sets" in shown(found)


@pytest.mark.parametrize(
    ("variant_id", "status"),
    [
        ("cis-hardened", Status.PASS),
        ("fips", Status.PASS),
        ("lts_stig", Status.PASS),
        ("Security", Status.PASS),
        ("workstation", Status.FAIL),  # not among Oracle's values for the release, not a hardening word
        ("securitylab", Status.FAIL),  # matched word by word
        ("", Status.FAIL),  # the vendor's images set one; this image does not: an unknown variant
    ],
)
def test_variant_ids_against_vendor_values_and_words(tmp_path: Path, variant_id: str, status: Status) -> None:
    text = OL_TEXT.replace('VARIANT_ID="server"\n', f"VARIANT_ID={variant_id}\n" if variant_id else "")
    found = variant(root_with(tmp_path, text), catalog(OL8))
    assert found.status is status, shown(found)


def test_hardening_word_on_a_vendor_without_values(tmp_path: Path) -> None:
    found = variant(root_with(tmp_path, NOBLE_TEXT + "VARIANT_ID=cis-level1\n"), catalog(NOBLE))
    assert found.status is Status.PASS and "it names 'cis'" in shown(found)
    found = variant(root_with(tmp_path, NOBLE_TEXT + "VARIANT_ID=desktop\n"), catalog(NOBLE))
    assert found.status is Status.FAIL


def test_unreadable_os_release_or_unknown_release_is_an_error(tmp_path: Path) -> None:
    root = root_with(tmp_path, "")
    (root / "etc/os-release").write_bytes(b"\xff\xfe\x00binary")
    assert variant(root, catalog(NOBLE)).status is Status.ERROR
    shutil.rmtree(root / "etc")
    assert variant(root, catalog(NOBLE)).status is Status.ERROR
    unknown = root_with(tmp_path, 'ID=madeupos\nVERSION_ID="1.0"\n')
    found = variant(unknown, catalog(NOBLE))
    assert found.status is Status.ERROR and "not in imagevet's release catalog" in shown(found)
