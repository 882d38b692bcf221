"""Run OpenSCAP's CIS Level 1 server profile (SSG 0.1.65's ubuntu2204 content, platform check relaxed)
on a root filesystem through a read-only bind mount in a private mount namespace, as the foundation
issue's benchmark does (benchmarks/openscap/run.sh), and read back each rule's result."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

SSG = Path("/usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml")
PROFILE = "xccdf_org.ssgproject.content_profile_cis_level1_server"
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"


def openscap_available() -> bool:
    return shutil.which("oscap-chroot") is not None and SSG.is_file() and shutil.which("unshare") is not None


def relaxed_datastream(work: Path) -> Path:
    """A copy of the data stream without the Benchmark's single OS platform line (else all rules are
    notapplicable on Debian 12)."""
    target = work / "ubuntu2204-relaxed-ds.xml"
    if not target.exists():
        text = SSG.read_text()
        pattern = re.compile(r'^\s*<xccdf-1\.2:platform idref="cpe:/o:[^"]*"/>\s*\n', re.MULTILINE)
        relaxed, count = pattern.subn("", text)
        if count != 1:
            raise RuntimeError(f"expected one OS platform line in {SSG}, found {count}")
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
