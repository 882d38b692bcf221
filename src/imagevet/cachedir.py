"""The user's cache folder for what imagevet computes from its own files (knowledge.py, classcode.py),
and whether it may be trusted.

$IMAGEVET_KNOWLEDGE_CACHE (a directory, or ``off``), else $XDG_CACHE_HOME/imagevet/knowledge, else
~/.cache/imagevet/knowledge. A folder someone else owns, or that others may write, is passed by: it could
hold planted entries (using it costs only time, never a result).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_ENV = "IMAGEVET_KNOWLEDGE_CACHE"


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The folder, or None when off or there is no home directory to put it in."""
    named = environ.get(CACHE_ENV, "")
    if named == "off":
        return None
    if named:
        return Path(named)
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "imagevet" / "knowledge"
    home = environ.get("HOME", "")
    # A home that is not there (HOME=/nonexistent for a service account) is never created for a cache.
    return (
        Path(home) / ".cache" / "imagevet" / "knowledge"
        if os.path.isabs(home) and os.path.isdir(home)
        else None
    )


def private(path: Path) -> bool:
    """Whether ``path`` (a folder or a file) is the user's own and no one else may write it, or is not
    there yet."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return status.st_uid == os.geteuid() and not status.st_mode & 0o022
