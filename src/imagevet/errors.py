"""Errors the CLI turns into a one-line message and exit code 2.

Every subsystem raises a subclass of :class:`ImagevetError` for problems caused by the user's input (a
missing target, a malformed waiver file, an unknown check id). Anything else is a bug and is allowed to
surface as such in tests.
"""

from __future__ import annotations


class ImagevetError(Exception):
    """A usage or input problem: the CLI prints ``imagevet: error: <message>`` and exits 2."""


class TargetError(ImagevetError):
    """The target cannot be opened as an image root."""


class WaiverError(ImagevetError):
    """The waiver file is unreadable or malformed."""


class CheckSelectionError(ImagevetError):
    """``--checks`` names a check that does not exist."""


class DataError(ImagevetError):
    """A built-in data file (check metadata, lifecycle table) is invalid."""


class VersionError(ImagevetError):
    """A version string that its scheme rejects."""
