"""What the paid-support detectors share: the tier states, the vendor files they read, how a finding is
recorded (PaidSupport), and the careful readers (a missing file is not an unreadable one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

ATTACHED = "attached"
ABSENT = "absent"
UNDECIDED = "undecided"

PRO_STATUS = "/var/lib/ubuntu-advantage/status.json"
ESM_SOURCES = ("/etc/apt/sources.list.d/ubuntu-esm-*.list", "/etc/apt/sources.list.d/ubuntu-esm-*.sources")
ESM_AUTH = "/etc/apt/auth.conf.d/90ubuntu-advantage"
ESM_HOST = "esm.ubuntu.com"
YUM_REPOS = "/etc/yum.repos.d/*.repo"
RELEASEVER = ("/etc/dnf/vars/releasever", "/etc/yum/vars/releasever")
SUSE_PRODUCTS = "/etc/products.d/*.prod"
ZYPP_REPOS = "/etc/zypp/repos.d/*.repo"

# A real status.json is a few kilobytes; anything near this is not the client's file.
MAX_STATUS_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024

_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off")


@dataclass(frozen=True)
class PaidSupport:
    """What the image's files say about one kind of paid support (a catalog tier kind)."""

    kind: str  # esm | legacy | eus | ltss
    state: str  # attached | absent | undecided
    name: str  # what it is, as the vendor calls it
    reason: str  # what was seen, as a sentence fragment ("Ubuntu Pro is attached, esm-infra enabled")
    path: str | None = None  # the image file it was detected from (or that decided it)
    expires: dt.date | None = None  # the contract's last day when the files record it

    @property
    def attached(self) -> bool:
        return self.state == ATTACHED


# ---------------------------------------------------------------------------------------------- reading


def nothing_at(target: Target, path: str) -> bool:
    """Nothing at all at ``path`` (not even a link): a missing file, not an unreadable one."""
    return not target.exists(path) and target.readlink(path) is None


def read_file(target: Target, path: str, limit: int = MAX_CONFIG_BYTES) -> str | Unknown | None:
    """The file's text, None when there is nothing at the path, or why it cannot be read."""
    if nothing_at(target, path):
        return None
    text = target.read_text(path, max_bytes=limit)
    if isinstance(text, Unknown) and not target.exists(path):
        return Unknown(f"{path} is a link that does not resolve inside the image")
    return text


def ini_sections(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``[id]`` sections of a yum/zypp ``.repo`` file with their ``key=value`` options (last one wins)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    yield from sections.items()


def repo_flag(value: str | None, default: bool) -> bool | None:
    """A yum/zypp boolean; None when the value is not one."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def repo_sections(
    target: Target, pattern: str, problems: list[str]
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(file, section, options) of every repository file matching ``pattern`` (yum and zypp share the
    INI form); a file that cannot be read is added to ``problems`` and skipped."""
    for path in target.glob(pattern):
        text = read_file(target, path)
        if isinstance(text, Unknown):
            problems.append(text.reason)
            continue
        for section, options in ini_sections(text or ""):
            yield path, section, options
