"""pam_limits entries (``domain type item value``) of /etc/security/limits.conf and limits.d/*.conf, in
the order pam_limits reads them. Unreadable files are passed over."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

LIMITS_FILES = ("/etc/security/limits.conf", "/etc/security/limits.d/*.conf")


@dataclass(frozen=True)
class Limit:
    domain: str
    type: str  # soft | hard | -
    item: str
    value: str
    path: str
    line: int


def parse_limits(text: str, path: str) -> list[Limit]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if len(words) >= 4 and not words[0].startswith("#"):
            domain, kind, item, value = words[:4]
            found.append(Limit(domain, kind, item, value, path, number))
    return found


def gather_limits(target: Target) -> tuple[Limit, ...]:
    paths = [LIMITS_FILES[0], *target.glob(LIMITS_FILES[1])]
    limits: list[Limit] = []
    for path in paths:
        text = target.read_text(path)
        if not isinstance(text, Unknown):
            limits += parse_limits(text, path)
    return tuple(limits)
