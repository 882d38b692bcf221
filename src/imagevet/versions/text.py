"""How a rejected version is named in an error message: escaped and bounded.

Versions come from an image's package database or an advisory feed, so they are untrusted text: a message
shows at most a short ``repr`` (control characters escaped, never raw), and the length of the rest.
"""

from __future__ import annotations

LIMIT = 40


def shown(version: str) -> str:
    """``'1.0-1'``, or ``'1.0-1…' (5000 characters)`` for a long one; control characters escaped."""
    if len(version) <= LIMIT:
        return ascii(version)
    return f"{ascii(version[:LIMIT])[:-1]}…' ({len(version)} characters)"


def ordered_int(digits: str) -> int:
    """An ASCII digit run as an int that sorts like its value, however long the run.

    ``int()`` refuses more than 4,300 digits (Python's guard against quadratic conversion), yet dpkg and
    rpm compare digit runs of any length. Up to 18 significant digits the value itself is used; longer
    runs map to their bytes read as one big-endian number: linear to compute, larger than every 18-digit
    value, and ordered like the numbers (more digits sort higher; equal lengths compare digit by digit).
    """
    if len(digits) <= 18:
        return int(digits)
    significant = digits.lstrip("0")
    if len(significant) <= 18:
        return int(significant or "0")
    return int.from_bytes(significant.encode("ascii"), "big")
