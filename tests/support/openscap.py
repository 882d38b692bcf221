"""Run OpenSCAP's CIS Level 1 server profile (SSG's ubuntu2204 content, platform check relaxed) on a root
filesystem through a read-only bind mount in a private mount namespace, as the foundation issue's benchmark
does (benchmarks/openscap/run.sh), and read back each rule's result.

The oracle is SSG 0.1.76 (Debian trixie's ssg-debderived), not bookworm's 0.1.65: 0.1.65 reads sshd
settings from sshd_config only and so misjudges every drop-in in sshd_config.d, which Debian 12 includes
first. The package is data only (XML); it is fetched once with apt-get from a private trixie source list
(apt checks it against the Debian archive keyring, as for any package) and unpacked into the test cache,
keyed by its version, never installed into the system."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.debian_root import cache_root

SSG_PACKAGE = "ssg-debderived"
SSG_VERSION = "0.1.76-1"  # trixie's, checked 2026-12-06; a newer release must be a deliberate change here
SSG_SUITE = "trixie"
SSG_MIRROR = "http://deb.debian.org/debian"
SSG_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
DATASTREAM = "usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml"
PROFILE = "xccdf_org.ssgproject.content_profile_cis_level1_server"
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"


def ssg_datastream() -> Path:
    """The ubuntu2204 data stream of SSG_VERSION, fetched and unpacked on first use (about 4 MB)."""
    home = cache_root() / f"ssg-{SSG_VERSION}"
    target = home / "content" / DATASTREAM
    if target.is_file():
        return target
    apt = home / "apt"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text(f"deb [signed-by={SSG_KEYRING}] {SSG_MIRROR} {SSG_SUITE} main\n")
    options = [
        f"-oDir::Etc::SourceList={sources}",
        "-oDir::Etc::SourceParts=/dev/null",
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt}",
        "-oAPT::Sandbox::User=root",
        "-qq",
    ]
    for step in (["update"], ["download", f"{SSG_PACKAGE}={SSG_VERSION}"]):
        command = ["apt-get", *options, *step]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=apt)
        if proc.returncode != 0:  # e.g. the suite moved on to a newer release: pin that one deliberately
            wanted = f"{SSG_PACKAGE} {SSG_VERSION}"
            raise RuntimeError(f"apt-get {step[0]} of {wanted} failed: {proc.stderr[-500:]}")
    deb = next(apt.glob(f"{SSG_PACKAGE}_*.deb"))
    partial = home / "content.partial"
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True, timeout=300)
    if not (partial / DATASTREAM).is_file():
        raise RuntimeError(f"{deb.name} has no {DATASTREAM}")
    partial.rename(home / "content")
    shutil.rmtree(apt)  # the index and the package are only the way there
    return target


def openscap_available() -> bool:
    """OpenSCAP itself and what fetches its content; the content is fetched by ssg_datastream()."""
    tools = ("oscap-chroot", "unshare", "apt-get", "dpkg-deb")
    return all(shutil.which(tool) for tool in tools) and SSG_KEYRING.is_file()


def relaxed_datastream(work: Path) -> Path:
    """A copy of the data stream without the Benchmark's single OS platform line (else all rules are
    notapplicable on Debian 12)."""
    target = work / "ubuntu2204-relaxed-ds.xml"
    if not target.exists():
        source = ssg_datastream()
        text = source.read_text()
        pattern = re.compile(r'^\s*<xccdf-1\.2:platform idref="cpe:/o:[^"]*"/>\s*\n', re.MULTILINE)
        relaxed, count = pattern.subn("", text)
        if count != 1:
            raise RuntimeError(f"expected one OS platform line in {source}, found {count}")
        target.write_text(relaxed)
    return target


def run_cis_profile(root: Path, work: Path) -> dict[str, str]:
    """Rule id (without the SSG prefix) -> result (pass, fail, notapplicable, ...)."""
    work.mkdir(parents=True, exist_ok=True)
    datastream = relaxed_datastream(work)
    mount = work / "ro"
    mount.mkdir(exist_ok=True)
    results = work / "results.xml"
    results.unlink(missing_ok=True)
    script = (
        f'mount --bind "{root}" "{mount}" && mount -o remount,bind,ro "{mount}" && '
        f'oscap-chroot "{mount}" xccdf eval --profile {PROFILE} --results "{results}" "{datastream}"'
    )
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode not in (0, 2):  # 2: some rule failed
        raise RuntimeError(f"oscap failed ({proc.returncode}): {proc.stderr[-500:]}")
    verdicts: dict[str, str] = {}
    for element in ET.parse(results).iter():
        if element.tag.endswith("rule-result"):
            result = next((child.text for child in element if child.tag.endswith("result")), None)
            rule = element.get("idref", "").removeprefix(RULE_PREFIX)
            if result:
                verdicts[rule] = result
    return verdicts
