"""Which OSV ecosystems describe an OS release, and whether its advisories name source or binary packages."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import OsRelease


@dataclass(frozen=True)
class Ecosystems:
    """The advisory ecosystems an image's packages are matched in, and its version scheme."""

    names: tuple[str, ...]  # OSV ecosystem strings to look up
    by_source: bool  # advisories name source packages (Debian, Ubuntu) rather than binaries
    scheme: str  # version scheme: deb, rpm, apk


def ecosystems_for(os: OsRelease) -> Ecosystems | None:
    """``Debian:12``, ``Ubuntu:24.04:LTS`` (+ ``Ubuntu:Pro:…``), ``AlmaLinux:9``, ``Alpine:v3.20`` …"""
    version = os.version_id
    major = version.split(".", 1)[0]
    if os.id == "debian" and major:
        return Ecosystems((f"Debian:{major}",), True, "deb")
    if os.id == "ubuntu" and version:
        year, _, month = version.partition(".")
        lts = month == "04" and year.isdigit() and int(year) % 2 == 0
        names = (f"Ubuntu:{version}:LTS", f"Ubuntu:Pro:{version}:LTS") if lts else (f"Ubuntu:{version}",)
        return Ecosystems(names, True, "deb")
    if os.id == "almalinux" and major:
        return Ecosystems((f"AlmaLinux:{major}",), False, "rpm")
    if os.id == "rocky" and major:
        return Ecosystems((f"Rocky Linux:{major}",), False, "rpm")
    if os.id == "alpine" and version:
        return Ecosystems((f"Alpine:v{'.'.join(version.split('.')[:2])}",), False, "apk")
    if os.id == "opensuse-leap" and version:
        return Ecosystems((f"openSUSE:Leap {version}",), False, "rpm")
    if os.id == "sles" and version:
        base, _, sp = version.partition(".")
        name = f"SUSE:Linux Enterprise Server {base}" + (f" SP{sp}" if sp and sp != "0" else "")
        return Ecosystems((name,), False, "rpm")
    if os.id == "mariner" and major:
        return Ecosystems((f"Mariner:{version}",), False, "rpm")
    if os.id == "azurelinux" and version:
        return Ecosystems((f"Azure Linux:{version}",), False, "rpm")
    return None
