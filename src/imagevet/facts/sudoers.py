"""sudo's ``Defaults`` lines, from /etc/sudoers and the drop-ins of /etc/sudoers.d.

A drop-in that cannot be read is passed over (sudo itself warns and goes on); the main file that cannot be
read is Unknown: nothing about sudo's defaults can be said then.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

SUDOERS = "/etc/sudoers"
SUDOERS_D = "/etc/sudoers.d/*"


@dataclass(frozen=True)
class SudoDefault:
    """One ``Defaults`` entry of the sudoers files, with its file and line."""

    text: str  # the whole line, stripped: "Defaults use_pty"
    path: str
    line: int


@dataclass(frozen=True)
class Sudoers:
    """The ``Defaults`` entries of /etc/sudoers and its includes, in the order sudo reads them."""

    defaults: tuple[SudoDefault, ...]


def parse_defaults(text: str, path: str) -> list[SudoDefault]:
    """Every line starting with ``Defaults`` (any ``Defaults:user`` or ``Defaults>runas`` form too)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("Defaults"):
            found.append(SudoDefault(stripped, path, number))
    return found


def gather_sudoers(target: Target) -> Sudoers | Unknown | None:
    """The Defaults lines; None when sudo is not installed (no /etc/sudoers)."""
    if not target.exists(SUDOERS):
        return None
    defaults: list[SudoDefault] = []
    for path in [SUDOERS, *target.glob(SUDOERS_D)]:
        text = target.read_text(path)
        if isinstance(text, Unknown):
            if path == SUDOERS:
                return text
            continue
        defaults += parse_defaults(text, path)
    return Sudoers(tuple(defaults))
