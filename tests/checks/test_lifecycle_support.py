"""os-supported and os-support-window judge against the support the image actually has attached.

Catalogs are built here (tests/checks/catalogs.py): the bundled dates change as the data is reviewed.
One test reads its dates from the bundled catalog instead of writing them down.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.catalog.lifecycle import release_id_for
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Catalog
from imagevet.checks.base import CheckOptions
from imagevet.facts.os_release import gather_os_release
from imagevet.model import CheckResult, OsRelease, Status
from imagevet.report import AuditFormat, render_audit
from imagevet.target import RootfsTarget
from tests.checks.catalogs import catalog, release, tier
from tests.conftest import FIXTURES

ROOTFS = FIXTURES / "rootfs"
STATUS = "var/lib/ubuntu-advantage/status.json"
AS_OF = dt.date(2026, 12, 2)
DAY = dt.timedelta(days=1)


def catalog_id(fixture: str) -> str:
    """The catalog id imagevet looks the fixture's os-release up by (its naming rules are not ours)."""
    os = gather_os_release(RootfsTarget(str(ROOTFS / fixture)))
    assert isinstance(os, OsRelease)
    return release_id_for(os)


STANDARD_END = AS_OF - 400 * DAY  # free support ended more than a year before the audit
ESM_END = AS_OF + 3 * 365 * DAY + 120 * DAY  # before the fixture's contract end, 2031-03-16
FOCAL = release(
    catalog_id("ubuntu2004-pro"),
    "ubuntu",
    "20.04",
    "debian",
    (
        tier("standard", STANDARD_END),
        tier("esm", ESM_END, "subscription", "Ubuntu Pro ESM"),
        tier("legacy", None, "add-on", "Ubuntu Pro Legacy add-on"),
    ),
    name="Ubuntu 20.04 LTS",
)
RHEL9 = release(
    catalog_id("rhel9-eus"),
    "rhel",
    "9",
    "rhel",
    (tier("standard", STANDARD_END), tier("eus", AS_OF + 500 * DAY, "add-on", "RHEL 9.4 EUS")),
)
SLES15 = release(
    catalog_id("sles15-ltss"),
    "sles",
    "15",
    "suse",
    (tier("standard", STANDARD_END), tier("ltss", AS_OF + 900 * DAY, "add-on")),
)
CATALOG = catalog(FOCAL, RHEL9, SLES15)


def result(
    root: Path, check: str, as_of: dt.date = AS_OF, years: float = 3.0, cat: Catalog = CATALOG
) -> CheckResult:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(as_of, years, catalog=cat), [check])
    return report.results[0]


def text(found: CheckResult) -> str:
    return " | ".join(str(e) for e in found.evidence)


def without_pro(root: Path) -> Path:
    shutil.rmtree(root / "var/lib/ubuntu-advantage")
    for name in ("ubuntu-esm-infra.list", "ubuntu-esm-apps.list"):
        (root / "etc/apt/sources.list.d" / name).unlink()
    (root / "etc/apt/auth.conf.d/90ubuntu-advantage").unlink()
    return root


def test_focal_past_standard_passes_with_pro_attached() -> None:
    found = result(ROOTFS / "ubuntu2004-pro", "os-supported")
    assert found.status is Status.PASS
    shown = text(found)
    assert f"free security support ended on {STANDARD_END.isoformat()}" in shown
    assert f"Ubuntu Pro ESM (esm, subscription) covers it until {ESM_END.isoformat()}" in shown
    assert "(/var/lib/ubuntu-advantage/status.json)" in shown  # the file it was detected from
    assert "lifecycle data: https://example.invalid/test-catalog" in shown


def test_focal_past_standard_fails_without_pro(copy_of: Callable[[str], Path]) -> None:
    found = result(without_pro(copy_of("ubuntu2004-pro")), "os-supported")
    assert found.status is Status.FAIL
    shown = text(found)
    assert (
        f"Ubuntu Pro ESM would cover it until {ESM_END.isoformat()}, but Ubuntu Pro is not attached" in shown
    )
    assert "Ubuntu Pro Legacy add-on: its end is not published" in shown


def test_expired_contract_does_not_count(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    data = json.loads((root / STATUS).read_text())
    data["expires"] = (AS_OF - 30 * DAY).isoformat() + "T00:00:00+00:00"
    (root / STATUS).write_text(json.dumps(data))
    found = result(root, "os-supported")
    assert found.status is Status.FAIL
    assert f"the contract expired on {(AS_OF - 30 * DAY).isoformat()}" in text(found)
    assert result(root, "os-supported", as_of=AS_OF - 40 * DAY).status is Status.PASS  # before it expired


def test_contract_ending_before_the_tier_caps_the_window(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    data = json.loads((root / STATUS).read_text())
    contract_end = AS_OF + 200 * DAY
    data["expires"] = contract_end.isoformat() + "T12:00:00Z"
    (root / STATUS).write_text(json.dumps(data))
    assert result(root, "os-supported").status is Status.PASS
    window = result(root, "os-support-window", years=1.0)
    assert window.status is Status.FAIL
    assert f"the contract ends {contract_end.isoformat()}, before the tier's" in text(window)


def test_corrupt_status_is_an_error_once_free_support_ended(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    (root / STATUS).write_text('{"attached": true, "services": [')
    found = result(root, "os-supported")
    assert found.status is Status.ERROR
    assert "the Ubuntu Pro status cannot be read" in text(found) and "not valid JSON" in text(found)
    # While free support runs, the unreadable file does not matter.
    assert result(root, "os-supported", as_of=STANDARD_END).status is Status.PASS


def test_support_window_counts_attached_esm(copy_of: Callable[[str], Path]) -> None:
    window = result(ROOTFS / "ubuntu2004-pro", "os-support-window")
    assert window.status is Status.PASS and "with Ubuntu Pro ESM: 3.3 years left" in text(window)
    assert result(ROOTFS / "ubuntu2004-pro", "os-support-window", years=4.0).status is Status.FAIL
    assert result(without_pro(copy_of("ubuntu2004-pro")), "os-support-window").status is Status.FAIL
    root = copy_of("ubuntu2004-pro")
    (root / STATUS).write_bytes(b"\x00" * 64)
    assert result(root, "os-support-window").status is Status.ERROR


def test_rhel_eus_counts_only_with_the_repos(copy_of: Callable[[str], Path]) -> None:
    found = result(ROOTFS / "rhel9-eus", "os-supported")
    assert found.status is Status.PASS
    assert "RHEL 9.4 EUS (eus, add-on) covers it" in text(found) and "pinned to 9.4" in text(found)
    assert "(/etc/yum.repos.d/redhat.repo)" in text(found)
    root = copy_of("rhel9-eus")
    (root / "etc/yum.repos.d/redhat.repo").unlink()
    found = result(root, "os-supported")
    assert found.status is Status.FAIL and "no EUS or E4S repository is enabled" in text(found)


def test_suse_ltss_counts_only_when_registered(copy_of: Callable[[str], Path]) -> None:
    assert result(ROOTFS / "sles15-ltss", "os-supported").status is Status.PASS
    root = copy_of("sles15-ltss")
    (root / "etc/products.d/SLES-LTSS.prod").unlink()
    shutil.rmtree(root / "etc/zypp/repos.d")
    assert result(root, "os-supported").status is Status.FAIL


def test_a_paid_tier_of_another_vendor_never_counts(copy_of: Callable[[str], Path]) -> None:
    """Ubuntu Pro files in a RHEL image do not give RHEL support (the release has no esm tier)."""
    root = copy_of("rhel9-eus")
    shutil.copytree(ROOTFS / "ubuntu2004-pro/var", root / "var")
    (root / "etc/yum.repos.d/redhat.repo").unlink()
    assert result(root, "os-supported").status is Status.FAIL


def test_with_the_bundled_catalog_dates() -> None:
    """The bundled ubuntu-20.04 record, whatever its dates are today: the day after free support ends."""
    bundled = bundled_catalog()
    focal = bundled.release("ubuntu-20.04")
    esm = focal.tier("esm") if focal is not None else None
    if focal is None or focal.eol is None or esm is None or esm.ends is None:
        pytest.skip("the bundled catalog has no dated ubuntu-20.04 ESM tier")
    day = focal.eol + DAY
    found = result(ROOTFS / "ubuntu2004-pro", "os-supported", as_of=day, cat=bundled)
    expected = Status.PASS if day <= min(esm.ends, dt.date(2031, 3, 16)) else Status.FAIL
    assert found.status is expected, text(found)
    assert f"{esm.name} ({esm.tier}, {esm.cost}) covers it until" in text(found)


def test_no_secret_reaches_any_output() -> None:
    report = run_audit(
        RootfsTarget(str(ROOTFS / "ubuntu2004-pro")),
        CheckOptions(AS_OF, catalog=CATALOG),
        ["os-supported", "os-support-window"],
    )
    for fmt in AuditFormat:
        rendered = render_audit(report, fmt)
        assert "FAKE-TOKEN" not in str(rendered)
