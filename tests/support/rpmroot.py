"""Build small RPMs with Debian's rpmbuild and install them into a root with `rpm --root` (SQLite rpmdb)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SPEC = """\
Name: {name}
Version: {version}
Release: {release}
{epoch}Summary: imagevet test package {name}
License: {license}
BuildArch: noarch

%description
A package built by the imagevet test suite.

%install
mkdir -p %{{buildroot}}/usr/share/imagevet-test
echo {name} > %{{buildroot}}/usr/share/imagevet-test/{name}

%files
/usr/share/imagevet-test/{name}
"""

PACKAGES = [
    {"name": "imagevet-alpha", "version": "1.0", "release": "1", "epoch": "", "license": "MIT"},
    {
        "name": "imagevet-beta",
        "version": "2.3~rc1",
        "release": "4.el9",
        "epoch": "Epoch: 2\n",
        "license": "GPL-2.0-or-later",
    },
    {
        "name": "imagevet-gamma",
        "version": "0.9^20260101git",
        "release": "0.1",
        "epoch": "",
        "license": "GPLv2+ and BSD",
    },
]


def rpm_tools_available() -> bool:
    return shutil.which("rpm") is not None and shutil.which("rpmbuild") is not None


DELTA = {"name": "imagevet-delta", "version": "4.0", "release": "1", "epoch": "", "license": "MIT"}


def build_root(work: Path, packages: list[dict[str, str]] | None = None) -> Path:
    """Build the packages (default: PACKAGES) and install them into ``work/root``; returns the root."""
    top = work / "rpmbuild"
    for sub in ("SPECS", "BUILD", "RPMS", "SOURCES", "SRPMS", "BUILDROOT"):
        (top / sub).mkdir(parents=True, exist_ok=True)
    for package in packages if packages is not None else PACKAGES:
        spec = top / "SPECS" / f"{package['name']}.spec"
        spec.write_text(SPEC.format(**package))
        subprocess.run(
            [
                "rpmbuild",
                "-bb",
                "--define",
                f"_topdir {top}",
                "--define",
                "_binary_payload w9.gzdio",
                str(spec),
            ],
            check=True,
            capture_output=True,
        )
    root = work / "root"
    (root / "var/lib/rpm").mkdir(parents=True)
    rpms = sorted(str(p) for p in (top / "RPMS").rglob("*.rpm"))
    subprocess.run(
        [
            "rpm",
            "--root",
            str(root),
            "--dbpath",
            "/var/lib/rpm",
            "--define",
            "_db_backend sqlite",
            "-i",
            "--nodeps",
            "--noscripts",
            "--ignoreos",
            "--ignorearch",
            *rpms,
        ],
        check=True,
        capture_output=True,
    )
    return root


def rpm_qa(root: Path) -> set[tuple[str, str, str]]:
    """What the real rpm says is installed: (name, [epoch:]version-release, arch)."""
    proc = subprocess.run(
        [
            "rpm",
            "--root",
            str(root),
            "--dbpath",
            "/var/lib/rpm",
            "-qa",
            "--qf",
            "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return {tuple(line.split("\t")) for line in proc.stdout.splitlines()}  # type: ignore[misc]
