"""The inventory's own error, and the one rule every message follows: no bytes of the refused file."""

from __future__ import annotations

from imagevet.errors import ImagevetError


class InventoryError(ImagevetError):
    """A package database exists but cannot be read (missing, truncated, corrupt, hostile): exit 2."""


def printable(text: str, limit: int = 200) -> str:
    """A reason from lower layers, safe for one terminal line: control characters and anything past
    ``limit`` characters replaced, so a hostile link target or name cannot write escape sequences."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."
