"""A root shaped like a Red Hat Enterprise Linux 9 image, in which the real dnf and rpm run: the Red Hat
family's package fixes (`purge: dnf`, `dnf install -y ...`) are applied there and re-audited.

No RHEL repository is reachable from the machines the tests run on, so the root is the debootstrap Debian
root with Debian's builds of dnf 4.14, rpm 4.18 and createrepo_c 0.17 (tests/support/debian_root.py,
cached by package list), and what makes it Red Hat to imagevet is what makes a real image so:
- /etc/os-release is RHEL 9.4's (as Trivy's test data has it, aquasecurity/trivy
  pkg/fanal/analyzer/os/release/testdata/rhel), so the audit and harden take the rhel family;
- rpm keeps its database in /var/lib/rpm as SQLite (RHEL 9's place and backend; Debian's rpm defaults to
  ~/.rpmdb, so a macro file sets the path);
- packages come from a dnf repository, here a local one (file:///srv/imagevet-repo, made by createrepo_c
  in the root) of stand-in RPMs built by rpmbuild: each carries the name a check judges and the files a
  later step of the same fix needs (the systemd unit it enables), and nothing else.

What is proven is the fix's commands, names and order with the real dnf and rpm, and imagevet's re-audit of
the rpm database dnf wrote; not Red Hat's own packages or repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.debian_root import ensure_debian_root

TOOLS = ("createrepo-c", "dnf", "rpm")
REPO = "/srv/imagevet-repo"
OS_RELEASE = """\
NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
"""
REPO_FILE = f"""\
[imagevet-test]
name=imagevet test packages
baseurl=file://{REPO}
gpgcheck=0
enabled=1
"""
SPEC = """\
Name: {name}
Version: 99.0
Release: 1.imagevet
Summary: imagevet stand-in for {name}
License: MIT
BuildArch: noarch

%description
A stand-in built by the imagevet test suite: the name a check judges, and the files a fix needs.

%install
mkdir -p %{{buildroot}}
cp -a {tree}/. %{{buildroot}}/

%files
{files}
"""


def tools_root() -> Path:
    """The cached debootstrap root with dnf, rpm and createrepo_c installed (built once, ~2 minutes)."""
    return ensure_debian_root(TOOLS)


def chroot(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", str(root), *command], capture_output=True, text=True, timeout=300)


def stand_in_rpm(work: Path, name: str, files: dict[str, str] | None = None) -> Path:
    """A noarch RPM named ``name`` holding /usr/share/imagevet-test/NAME and ``files`` (path -> text)."""
    tree = work / "trees" / name
    own = {f"/usr/share/imagevet-test/{name}": name + "\n", **(files or {})}
    for path, text in own.items():
        (tree / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tree / path.lstrip("/")).write_text(text)
    top = work / "rpmbuild"
    spec = work / f"{name}.spec"
    spec.write_text(SPEC.format(name=name, tree=tree, files="\n".join(sorted(own))))
    subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", "_binary_payload w9.gzdio", str(spec)],
        check=True,
        capture_output=True,
    )
    return top / "RPMS" / "noarch" / f"{name}-99.0-1.imagevet.noarch.rpm"


def make_rhel_shaped(root: Path, rpms: list[Path]) -> None:
    """Turn a copy of tools_root() into a RHEL 9 image whose dnf repository holds ``rpms``."""
    (root / "etc/os-release").unlink(missing_ok=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "usr/lib/os-release").unlink(missing_ok=True)
    (root / "etc/rpm").mkdir(exist_ok=True)
    (root / "etc/rpm/macros.imagevet").write_text("%_dbpath /var/lib/rpm\n%_db_backend sqlite\n")
    (root / "var/lib/rpm").mkdir(parents=True, exist_ok=True)
    repo = root / REPO.lstrip("/")
    repo.mkdir(parents=True)
    for rpm in rpms:
        (repo / rpm.name).write_bytes(rpm.read_bytes())
    (root / "etc/yum.repos.d").mkdir(exist_ok=True)
    (root / "etc/yum.repos.d/imagevet-test.repo").write_text(REPO_FILE)
    for command in (("rpm", "--initdb"), ("createrepo_c", "-q", REPO)):
        done = chroot(root, *command)
        assert done.returncode == 0, done.stdout + done.stderr


def rpm_names(root: Path) -> set[str]:
    """What the root's own rpm says is installed."""
    listed = chroot(root, "rpm", "-qa", "--qf", "%{NAME}\\n")
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())
