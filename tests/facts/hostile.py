"""Hostile variants every file gatherer is tried with: binary, larger than the read cap, and a link that
points outside the image (the Target re-roots it, so the host's file is never read)."""

from __future__ import annotations

import os
from pathlib import Path

from imagevet.target.base import MAX_READ_BYTES

HOSTILE = ("binary", "huge", "link-outside")


def plant(root: Path, path: str, kind: str) -> None:
    """Put a hostile ``kind`` of file at image path ``path`` under ``root``."""
    file = root / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    if file.exists() or file.is_symlink():
        file.unlink()
    if kind == "binary":
        file.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    elif kind == "huge":
        file.write_bytes(b"# padding\n" * (MAX_READ_BYTES // 10 + 1))
    elif kind == "link-outside":
        # Both an absolute link to the host's own file and a climbing relative one stay inside the image.
        depth = "../" * (len(Path(path).parts) + 3)
        target = "/etc/login.defs" if path != "/etc/login.defs" else "/etc/passwd"
        os.symlink(depth + target.lstrip("/") if path.endswith(".conf") else target, file)
    else:
        raise ValueError(kind)
