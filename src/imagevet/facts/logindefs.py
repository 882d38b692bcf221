"""/etc/login.defs: shadow's settings for new accounts (password ageing, UMASK).

shadow's getdef.c reads ``NAME VALUE`` lines, skipping comments, and a later line for a name replaces an
earlier one; the value is the second word.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

LOGIN_DEFS = "/etc/login.defs"


@dataclass(frozen=True)
class LoginDefs:
    """Each setting's value and the line it was read from (the last one, as shadow reads it)."""

    values: dict[str, tuple[str, int]]
    path: str = LOGIN_DEFS


def parse_login_defs(text: str) -> dict[str, tuple[str, int]]:
    values: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#"):
            values[words[0]] = (words[1], number)
    return values


def gather_login_defs(target: Target) -> LoginDefs | Unknown:
    """The settings, or why the file cannot be read (a missing login.defs is not "no settings")."""
    text = target.read_text(LOGIN_DEFS)
    if isinstance(text, Unknown):
        return text
    return LoginDefs(parse_login_defs(text))
