"""`imagevet harden` for the package-removal checks (`purge: apt`, checks/package_fix.py), applied for real
in a chroot copy of the debootstrap root, with the image's own dpkg and apt-get.

Every name every removal check judges is installed as a stand-in package (dpkg-deb --build of a control
file and one file, then dpkg -i in the chroot: the real Debian packages would pull in daemons, users and
the network, and what is proven here is the fix's choice of names and apt's removal of them). The package
lists are removed first, as a container image ships: apt-get then knows only what dpkg knows, so the old
hand-written `apt-get purge -y a b c` failed ("Unable to locate package") where one name was missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.package_fix import removal_names
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real


def removal_checks() -> dict[str, tuple[str, ...]]:
    """Each check whose Debian fix is a purge step, and the names its packages row fails on."""
    found = {}
    for check, meta in builtin_metadata().items():
        names = removal_names(meta.value)
        steps = meta.remediation_for("debian")
        if names and any("apt-get purge" in step.text for step in steps):
            found[check] = names
    return found


def stand_in(work: Path, name: str, essential: bool = False) -> Path:
    """A package named ``name`` with one file of its own, as dpkg-deb builds it."""
    tree = work / name
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "usr/share/imagevet-test").mkdir(parents=True)
    (tree / "usr/share/imagevet-test" / name).write_text(name + "\n")
    control = (
        f"Package: {name}\nVersion: 9:99.0-imagevet\nArchitecture: all\n"
        "Maintainer: imagevet tests <tests@imagevet.invalid>\nDescription: stand-in for a removal fix test\n"
    )
    (tree / "DEBIAN/control").write_text(control + ("Essential: yes\n" if essential else ""))
    deb = work / f"{name}.deb"
    subprocess.run(["dpkg-deb", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def install(root: Path, debs: list[Path]) -> None:
    into = root / "imagevet-debs"
    into.mkdir()
    for deb in debs:
        (into / deb.name).write_bytes(deb.read_bytes())
    done = chroot(root, "sh", "-c", "dpkg -i /imagevet-debs/*.deb && rm -r /imagevet-debs")
    assert done.returncode == 0, done.stdout + done.stderr
    for lists in (root / "var/lib/apt/lists").glob("*_*"):  # as a container image ships: no package lists
        lists.unlink()


def statuses(root: Path, checks: list[str]) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks)
    return {r.check: r.status for r in report.results}


def harden(root: Path, checks: list[str]) -> subprocess.CompletedProcess[str]:
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and f"{len(checks)} failing check(s) addressed" in made.stderr, made.stderr
    return chroot(root, "/imagevet-harden.sh")


@pytest.fixture
def image_copy(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    return root


def test_every_removal_check_is_fixed_by_removing_exactly_its_packages(
    image_copy: Path, tmp_path: Path
) -> None:
    checks = removal_checks()
    assert len(checks) >= 30 and "packages-insecure-absent" in checks and "packages-no-web-server" in checks
    names = sorted({name for judged in checks.values() for name in judged})
    install(image_copy, [stand_in(tmp_path / "debs", name) for name in names])
    kept = ["openssh-server", "sudo", "cloud-init"]  # the root's own packages: no fix may touch them
    assert statuses(image_copy, list(checks)) == dict.fromkeys(checks, Status.FAIL)

    first = harden(image_copy, list(checks))
    applied = first.returncode == 0 and "imagevet: hardening applied" in first.stdout
    assert applied, first.stdout + first.stderr
    assert statuses(image_copy, list(checks)) == dict.fromkeys(checks, Status.PASS)
    listed = chroot(image_copy, "dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\n")
    state = dict(reversed(line.split()) for line in listed.stdout.splitlines())
    assert [n for n in names if state.get(n, "not-installed") != "not-installed"] == []  # purged, not removed
    assert all(state[k] == "installed" for k in kept)
    assert not (image_copy / "usr/share/imagevet-test").exists() or not any(
        (image_copy / "usr/share/imagevet-test").iterdir()
    )

    before_second = snapshot(image_copy)
    second = chroot(image_copy, "/imagevet-harden.sh")
    assert second.returncode == 0 and "REMOVED" not in second.stdout, second.stdout + second.stderr
    assert snapshot(image_copy) == before_second


def test_a_removal_apt_refuses_is_a_failed_fix_and_the_package_stays(
    image_copy: Path, tmp_path: Path
) -> None:
    """An essential package is one apt-get -y will not remove: the fix fails by name, the script exits 1,
    and the other removals are still made."""
    install(image_copy, [stand_in(tmp_path, "telnet", essential=True), stand_in(tmp_path, "rsync")])
    checks = ["packages-no-telnet-client", "packages-no-rsync"]
    proc = harden(image_copy, checks)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for packages-no-telnet-client failed" in proc.stderr
    assert "packages-no-rsync failed" not in proc.stderr
    after = statuses(image_copy, checks)
    assert after == {"packages-no-telnet-client": Status.FAIL, "packages-no-rsync": Status.PASS}


def test_a_package_query_that_cannot_run_fails_the_fix(image_copy: Path, tmp_path: Path) -> None:
    """No dpkg-query in the image (a stripped one), or one that cannot run: "none installed" must not be
    read from its silence (found by the red-team of issue 20: the script said applied, the re-audit
    failed)."""
    install(image_copy, [stand_in(tmp_path, "telnet")])
    (image_copy / "usr/bin/dpkg-query").rename(image_copy / "usr/bin/dpkg-query.moved")
    proc = harden(image_copy, ["packages-no-telnet-client"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for packages-no-telnet-client failed" in proc.stderr
