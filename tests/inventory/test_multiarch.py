"""Multi-arch dpkg databases made by the real dpkg: ``libdemo1:amd64`` and ``libdemo1:i386`` are two
packages, each listed and each matched against advisories (dpkg keys packages by name *and* arch).

How the fixture is made (at test time, in a private root; nothing on this machine is touched):
``dpkg-deb --root-owner-group --build`` of two tiny packages (``Multi-Arch: same``, amd64 and i386),
``dpkg --root=ROOT --add-architecture i386`` and ``dpkg --root=ROOT --force-script-chrootless -i``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease
from imagevet.target import RootfsTarget
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.matcher import match_packages
from imagevet.vuln.osv import Advisory, Affected
from tests.inventory.dpkg_oracle import dpkg_query
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

DEBIAN12 = OsRelease("debian", "12", "Debian GNU/Linux", "", "", "", (), "debian", "x")
CONTROL = """\
Package: libdemo1
Version: {version}
Architecture: {arch}
Multi-Arch: same
Maintainer: imagevet tests <tests@example.org>
Description: a multi-arch test library
"""


def build_multiarch_root(work: Path, version: str = "1.2-3") -> Path:
    """A root whose dpkg database holds libdemo1:amd64 and libdemo1:i386, installed by dpkg."""
    if shutil.which("dpkg") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg is not installed")
    root = work / "root"
    admin = root / "var/lib/dpkg"
    for sub in ("updates", "info", "triggers"):
        (admin / sub).mkdir(parents=True)
    (admin / "status").touch()
    debs = []
    for arch in ("amd64", "i386"):
        tree = work / f"build-{arch}"
        (tree / "DEBIAN").mkdir(parents=True)
        (tree / f"usr/lib/demo-{arch}").mkdir(parents=True)
        (tree / f"usr/lib/demo-{arch}/data").write_text(arch)
        (tree / "DEBIAN/control").write_text(CONTROL.format(version=version, arch=arch))
        deb = work / f"libdemo1_{arch}.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)],
            check=True,
            capture_output=True,
        )
        debs.append(str(deb))
    subprocess.run(["dpkg", f"--root={root}", "--add-architecture", "i386"], check=True, capture_output=True)
    subprocess.run(
        ["dpkg", f"--root={root}", "--force-script-chrootless", "-i", *debs], check=True, capture_output=True
    )
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n')
    return root


@pytest.fixture(scope="module")
def multiarch_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_multiarch_root(tmp_path_factory.mktemp("multiarch"))


def test_both_instances_are_listed(multiarch_root: Path) -> None:
    inventory = collect_inventory(RootfsTarget(str(multiarch_root)), DEBIAN12)
    ours = {(p.name, p.arch, p.version) for p in inventory.packages}
    assert ours == dpkg_query(multiarch_root / "var/lib/dpkg")
    assert ours == {("libdemo1", "amd64", "1.2-3"), ("libdemo1", "i386", "1.2-3")}
    purls = sorted(p.purl for p in inventory.packages)
    assert purls == [
        "pkg:deb/debian/libdemo1@1.2-3?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libdemo1@1.2-3?arch=i386&distro=debian-12",
    ]


def _lookup(fixed: str) -> object:
    advisory = Advisory(
        "DSA-0000-1",
        "2026-01-01T00:00:00Z",
        None,
        "libdemo overflow",
        ("CVE-2026-0001",),
        "high",
        None,
        (Affected("Debian:12", "libdemo1", ((("introduced", "0"), ("fixed", fixed)),), (), None),),
    )

    def lookup(ecosystems: tuple[str, ...], names: Iterable[str]) -> list[tuple[Advisory, Affected]]:
        return [(advisory, advisory.affected[0])] if "libdemo1" in set(names) else []

    return lookup


def test_each_instance_is_matched(multiarch_root: Path, tmp_path: Path) -> None:
    """The i386 instance left behind at an older version (as a half-done upgrade leaves it; dpkg reads
    such a database) is vulnerable while amd64 is fixed: the finding must not hide behind amd64."""
    skewed = tmp_path / "root"
    shutil.copytree(multiarch_root, skewed, symlinks=True)
    status = skewed / "var/lib/dpkg/status"
    text = status.read_text()
    i386 = text.index("Architecture: i386")
    at = text.index("Version: 1.2-3", i386)
    status.write_text(text[:at] + "Version: 1.2-1" + text[at + len("Version: 1.2-3") :])
    assert dpkg_query(skewed / "var/lib/dpkg") == {
        ("libdemo1", "amd64", "1.2-3"),
        ("libdemo1", "i386", "1.2-1"),
    }
    inventory = collect_inventory(RootfsTarget(str(skewed)), DEBIAN12)
    ecosystems = ecosystems_for(DEBIAN12)
    assert ecosystems is not None
    findings, warnings = match_packages(inventory.packages, ecosystems, _lookup("1.2-2"))  # type: ignore[arg-type]
    assert warnings == []
    assert [(f.package, f.arch, f.installed, f.fixed) for f in findings] == [
        ("libdemo1", "i386", "1.2-1", "1.2-2")
    ]
    both, _ = match_packages(inventory.packages, ecosystems, _lookup("1.2-4"))  # type: ignore[arg-type]
    assert [(f.arch, f.installed) for f in both] == [("amd64", "1.2-3"), ("i386", "1.2-1")]  # told apart


def test_packages_command_lists_both(multiarch_root: Path) -> None:
    proc = run_imagevet("packages", str(multiarch_root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listed = {(p["name"], p["arch"]) for p in json.loads(proc.stdout)["packages"]}
    assert listed == {("libdemo1", "amd64"), ("libdemo1", "i386")}


def test_dpkg_left_the_database_as_dpkg_query_reads_it(multiarch_root: Path) -> None:
    """The fixture really is dpkg's: its own query agrees, and the arch list names i386."""
    assert (multiarch_root / "var/lib/dpkg/arch").read_text().split() == ["amd64", "i386"]
    assert (multiarch_root / "var/lib/dpkg/info/libdemo1:i386.list").is_file()
