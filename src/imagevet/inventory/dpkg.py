"""Installed packages from the dpkg database (``/var/lib/dpkg/status`` and distroless ``status.d``)."""

from __future__ import annotations

from imagevet.model import Package, Unknown
from imagevet.target.base import Target

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d"


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """RFC 822-style stanzas separated by blank lines; continuation lines are folded into their field."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t":
            if last is not None:
                current[last] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip()
        current[last] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def package_from_stanza(stanza: dict[str, str], require_status: bool) -> Package | None:
    """A Package for an installed stanza; None for removed/config-files-only entries or incomplete ones."""
    name = stanza.get("Package")
    version = stanza.get("Version")
    if not name or not version:
        return None
    if require_status:
        status = stanza.get("Status", "").split()
        if len(status) != 3 or status[2] != "installed":
            return None
    source, source_version = name, version
    if "Source" in stanza:
        parts = stanza["Source"].split()
        source = parts[0]
        if len(parts) > 1 and parts[1].startswith("(") and parts[1].endswith(")"):
            source_version = parts[1][1:-1]
    return Package(name, version, stanza.get("Architecture", ""), source, source_version)


def parse_dpkg_status(text: str, require_status: bool = True) -> list[Package]:
    packages = []
    for stanza in parse_stanzas(text):
        package = package_from_stanza(stanza, require_status)
        if package is not None:
            packages.append(package)
    return packages


def gather_dpkg(target: Target) -> dict[str, Package] | Unknown | None:
    """Installed packages by name; None when the image has no dpkg database at all."""
    packages: dict[str, Package] = {}
    found = False
    if target.exists(DPKG_STATUS):
        found = True
        text = target.read_text(DPKG_STATUS, max_bytes=64 * 1024 * 1024)
        if isinstance(text, Unknown):
            return text
        for package in parse_dpkg_status(text):
            packages[package.name] = package
    names = target.list_dir(DPKG_STATUS_D)
    if not isinstance(names, Unknown):
        found = True
        for name in names:
            if "." in name:  # md5sums and other companions
                continue
            text = target.read_text(f"{DPKG_STATUS_D}/{name}")
            if isinstance(text, Unknown):
                continue
            # distroless stanzas carry no Status field: presence means installed.
            for package in parse_dpkg_status(text, require_status=False):
                packages.setdefault(package.name, package)
    return packages if found else None
