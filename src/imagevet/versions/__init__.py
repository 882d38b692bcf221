"""Version ordering per packaging scheme, identical to the reference tools (dpkg, librpm, apk-tools)."""

from __future__ import annotations

from imagevet.errors import VersionError
from imagevet.versions.apk import compare_apk, validate_apk
from imagevet.versions.deb import compare_deb
from imagevet.versions.rpm import compare_rpm

SCHEMES = ("deb", "rpm", "apk")


def compare(scheme: str, a: str, b: str) -> int:
    """Negative, zero or positive as ``a`` sorts before, equal to, or after ``b`` under ``scheme``.

    ``scheme`` is ``"deb"``, ``"rpm"`` (``[epoch:]version[-release]``) or ``"apk"``. A version the scheme
    rejects raises :class:`imagevet.errors.VersionError`.
    """
    if scheme == "deb":
        return compare_deb(a, b)
    if scheme == "rpm":
        return compare_rpm(a, b)
    if scheme == "apk":
        validate_apk(a)
        validate_apk(b)
        return compare_apk(a, b)
    raise VersionError(f"unknown version scheme {scheme!r} (choose from: {', '.join(SCHEMES)})")


__all__ = ["SCHEMES", "VersionError", "compare", "compare_apk", "compare_deb", "compare_rpm"]
