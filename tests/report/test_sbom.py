"""`imagevet packages`: JSON shape, and SBOMs validated against the CycloneDX 1.5 and SPDX 2.3 schemas."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from imagevet.facts.os_release import gather_os_release
from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease
from imagevet.report.packages import Format, PackagesReport, document, render, render_json
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

CREATED = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SPDX_SCHEMA = Path(__file__).parents[1] / "schemas/spdx-schema-2.3.json"


def render_cyclonedx(report: PackagesReport) -> str:
    return render(document(report), Format.CYCLONEDX)


def render_spdx(report: PackagesReport) -> str:
    return render(document(report), Format.SPDX)


def report_for(root: Path) -> PackagesReport:
    target = RootfsTarget(str(root))
    os_release = gather_os_release(target)
    os_known = os_release if isinstance(os_release, OsRelease) else None
    return PackagesReport(target.info, os_known, collect_inventory(target, os_known), CREATED)


@pytest.fixture(params=["debian", "rpm-ndb", "apk"])
def sample_root(request: pytest.FixtureRequest, shared_data: Path, tmp_path: Path) -> Path:
    if request.param == "debian":
        return FIXTURES / "rootfs/hardened-debian"
    if request.param == "apk":
        return shared_data / "pkgdb/apk/alpine-3.18-scalibr"
    root = tmp_path / "sles"
    (root / "usr/lib/sysimage/rpm").mkdir(parents=True)
    (root / "usr/lib/sysimage/rpm/Packages.db").write_bytes(
        (shared_data / "pkgdb/rpm/ndb-sles15-bci-gorpmdb/Packages.db").read_bytes()
    )
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('NAME="SLES"\nVERSION_ID="15.3"\nID="sles"\nID_LIKE="suse"\n')
    return root


def test_cyclonedx_1_5_is_valid(sample_root: Path) -> None:
    report = report_for(sample_root)
    text = render_cyclonedx(report)
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert errors is None, errors
    document = json.loads(text)
    assert document["specVersion"] == "1.5"
    purls = {c["purl"] for c in document["components"]}
    assert purls == {p.purl for p in report.inventory.packages}


def test_cyclonedx_validator_rejects_a_broken_bom(sample_root: Path) -> None:
    document = json.loads(render_cyclonedx(report_for(sample_root)))
    document["components"][0]["type"] = "not-a-type"
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(document)) is not None


def test_spdx_2_3_is_valid(sample_root: Path) -> None:
    schema = json.loads(SPDX_SCHEMA.read_text())
    report = report_for(sample_root)
    document = json.loads(render_spdx(report))
    jsonschema.validate(document, schema)
    assert document["spdxVersion"] == "SPDX-2.3"
    assert len(document["packages"]) == len(report.inventory.packages) > 0
    refs = {p["externalRefs"][0]["referenceLocator"] for p in document["packages"]}
    assert refs == {p.purl for p in report.inventory.packages}
    broken = dict(document)
    del broken["SPDXID"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_spdx_licenses_are_valid_or_noassertion(sample_root: Path) -> None:
    from license_expression import get_spdx_licensing

    licensing = get_spdx_licensing()
    for package in json.loads(render_spdx(report_for(sample_root)))["packages"]:
        declared = package["licenseDeclared"]
        assert declared == "NOASSERTION" or not licensing.validate(declared).errors, declared


def test_non_spdx_rpm_licence_is_kept_as_a_comment() -> None:
    from imagevet.report.spdx_license import spdx_expression

    assert spdx_expression("GPLv2+ and BSD") == "NOASSERTION"
    assert spdx_expression("GPL-2.0-or-later AND MIT") == "GPL-2.0-or-later AND MIT"
    assert spdx_expression("") == "NOASSERTION"


def test_sbom_ids_are_stable() -> None:
    root = FIXTURES / "rootfs/hardened-debian"
    assert render_spdx(report_for(root)) == render_spdx(report_for(root))


def test_packages_json_shape(sample_root: Path) -> None:
    document = json.loads(render_json(report_for(sample_root)))
    assert document["schema"] == "imagevet/packages/v1"
    for package in document["packages"]:
        assert {"name", "version", "arch", "source", "source_version", "purl", "type"} <= set(package)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagevet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_packages_cli(tmp_path: Path) -> None:
    proc = run("packages", str(FIXTURES / "rootfs/hardened-debian"), "-f", "json")
    assert proc.returncode == 0
    assert {p["name"] for p in json.loads(proc.stdout)["packages"]} >= {"openssh-server", "cloud-init"}
    out = tmp_path / "sbom.cdx.json"
    assert (
        run(
            "packages", str(FIXTURES / "rootfs/hardened-debian"), "-f", "cyclonedx", "-o", str(out)
        ).returncode
        == 0
    )
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"


def test_packages_cli_corrupt_database_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "var/lib/rpm").mkdir(parents=True)
    (tmp_path / "var/lib/rpm/Packages").write_bytes(b"\0" * 4096)
    proc = run("packages", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("imagevet: error: /var/lib/rpm/Packages:")
    assert "Traceback" not in proc.stderr
