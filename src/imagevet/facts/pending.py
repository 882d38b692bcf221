"""Pending security updates as the live host's own package manager sees them.

Only for live hosts (this machine, or one reached over SSH), where imagevet may run read-only queries:
``apt-get -s upgrade`` (a simulation, with locking disabled so nothing is written) on the Debian family, and
``dnf updateinfo list --security`` (cache only) on the RHEL family. The parsers are pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

APT_COMMAND = "LANG=C apt-get -s -o Debug::NoLocking=true upgrade"
DNF_COMMAND = (
    "LANG=C dnf -q --cacheonly updateinfo list --security 2>/dev/null"
    " || LANG=C yum -q updateinfo list security"
)

_APT_INST = re.compile(r"^Inst (\S+) \[([^\]]+)\] \((\S+) ([^\[]*)\[")


@dataclass(frozen=True)
class PendingUpdate:
    """A package with a newer version in the image's own apt lists: installed and available."""

    package: str
    installed: str
    available: str
    source: str  # the repository (apt) or the advisory id (dnf)


def parse_apt_simulation(output: str) -> list[PendingUpdate]:
    """Security updates from ``apt-get -s upgrade``: those offered by a ``*-security`` suite."""
    updates = []
    for line in output.splitlines():
        match = _APT_INST.match(line)
        if match and "security" in match.group(4).lower():
            updates.append(
                PendingUpdate(match.group(1), match.group(2), match.group(3), match.group(4).strip(" ,"))
            )
    return updates


def parse_dnf_updateinfo(output: str) -> list[PendingUpdate]:
    """``ALSA-2024:3339 Important/Sec. glibc-2.34-100.el9_4.2.x86_64`` lines."""
    updates = []
    for line in output.splitlines():
        words = line.split()
        if len(words) == 3 and "/Sec" in words[1]:
            updates.append(PendingUpdate(words[2], "", words[2], words[0]))
    return updates
