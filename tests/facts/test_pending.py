"""Parsing the package managers' own views of pending security updates (live SSH hosts)."""

from __future__ import annotations

from imagevet.facts.pending import parse_apt_simulation, parse_dnf_updateinfo

APT = """NOTE: This is only a simulation!
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security \
[amd64])
Inst liblzma-dev [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
"""

DNF = """ALSA-2024:3339 Important/Sec. glibc-2.34-100.el9_4.2.x86_64
ALSA-2024:3339 Important/Sec. glibc-common-2.34-100.el9_4.2.x86_64
ALBA-2024:1111 bugfix        tzdata-2024a-1.el9.noarch
"""


def test_apt_simulation_keeps_only_security_suites() -> None:
    updates = parse_apt_simulation(APT)
    assert [(u.package, u.installed, u.available) for u in updates] == [
        ("libgcrypt20", "1.10.1-3", "1.10.1-3+deb12u1"),
        ("liblzma-dev", "5.4.1-1", "5.4.1-1+deb12u2"),
    ]
    assert "Debian-Security" in updates[0].source


def test_dnf_updateinfo_security_only() -> None:
    updates = parse_dnf_updateinfo(DNF)
    assert [(u.source, u.package) for u in updates] == [
        ("ALSA-2024:3339", "glibc-2.34-100.el9_4.2.x86_64"),
        ("ALSA-2024:3339", "glibc-common-2.34-100.el9_4.2.x86_64"),
    ]
