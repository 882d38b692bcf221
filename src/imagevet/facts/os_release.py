"""OS identity from os-release(5): ``/etc/os-release``, falling back to ``/usr/lib/os-release``."""

from __future__ import annotations

import re
import shlex

from imagevet.model import OsRelease, Unknown
from imagevet.target.base import Target

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")

# ID or ID_LIKE values -> the family whose tools and defaults an image follows. Checked in order:
# ID first, then each ID_LIKE entry, so "rocky" (ID_LIKE="rhel centos fedora") lands in rhel.
FAMILY_OF = {
    "debian": "debian",
    "ubuntu": "debian",
    "rhel": "rhel",
    "centos": "rhel",
    "fedora": "rhel",
    "rocky": "rhel",
    "almalinux": "rhel",
    "ol": "rhel",
    "amzn": "rhel",
    "alinux": "rhel",
    "anolis": "rhel",
    "tencentos": "rhel",
    "opencloudos": "rhel",
    "openeuler": "rhel",
    "mariner": "rhel",
    "azurelinux": "rhel",
    "photon": "photon",
    "suse": "suse",
    "sles": "suse",
    "opensuse": "suse",
    "opensuse-leap": "suse",
    "alpine": "alpine",
    "wolfi": "wolfi",
}


_LINES = re.compile(r"\r\n|\r|\n")


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release's shell-like ``KEY=value`` lines (quotes and backslash escapes honoured).

    Lines end where systemd's env-file parser ends them (``\n``, ``\r``), not at every character Python's
    splitlines treats as a break (\x85, \u2028 ...): a hidden line would let an image name itself twice.
    """
    values: dict[str, str] = {}
    for raw in _LINES.split(text):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not key.replace("_", "").isalnum():
            continue
        try:
            words = shlex.split(value, comments=False, posix=True)
        except ValueError:
            words = [value.strip().strip("\"'")]
        values[key] = " ".join(words)
    return values


def family_of(os_id: str, id_like: tuple[str, ...]) -> str:
    for candidate in (os_id, *id_like):
        family = FAMILY_OF.get(candidate)
        if family:
            return family
    for candidate in (os_id, *id_like):
        if candidate.startswith("opensuse"):
            return "suse"
    return "unknown"


def os_release_from_values(values: dict[str, str], source: str) -> OsRelease | Unknown:
    os_id = values.get("ID", "").strip().lower()
    if not os_id:
        return Unknown(f"{source} has no ID field")
    id_like = tuple(values.get("ID_LIKE", "").lower().split())
    return OsRelease(
        id=os_id,
        version_id=values.get("VERSION_ID", ""),
        name=values.get("NAME", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
        variant=values.get("VARIANT", ""),
        version_codename=values.get("VERSION_CODENAME", ""),
        id_like=id_like,
        family=family_of(os_id, id_like),
        source=source,
        variant_id=values.get("VARIANT_ID", "").strip(),
    )


def gather_os_release(target: Target) -> OsRelease | Unknown:
    reasons = []
    for path in OS_RELEASE_PATHS:
        text = target.read_text(path)
        if isinstance(text, Unknown):
            reasons.append(text.reason)
            continue
        return os_release_from_values(parse_os_release(text), path)
    return Unknown("; ".join(reasons))
