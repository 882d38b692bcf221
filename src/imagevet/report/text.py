"""Text from an image, made safe for a terminal (tables) without importing a rendering library."""

from __future__ import annotations

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def safe(text: str) -> str:
    """Text from the image (os-release, evidence, paths) as the terminal may show it: control characters
    (an ESC would let an image retitle the window or clear the screen) and bidirectional overrides are
    escaped; newlines and tabs stay."""
    return "".join(
        c
        if c in "\n\t" or (c.isprintable() and c not in _BIDI)
        else c.encode("unicode_escape").decode("ascii")
        for c in text
    )
