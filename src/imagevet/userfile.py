"""Reading a file the user owns (waivers, inventories, override files): capped, decoded, one-line errors.

Shared by the CLI and the catalog store, so that every such file is refused the same way: at most
``max_bytes`` are read (``/dev/zero`` or a FIFO that never ends is refused, not read until memory runs
out), and no error quotes a byte of the refused file.
"""

from __future__ import annotations

from pathlib import Path

from imagevet.errors import ImagevetError


def read_capped_text(
    path: Path, label: str, max_bytes: int, error: type[ImagevetError] = ImagevetError
) -> str:
    """The UTF-8 text of ``path``, or ``error`` with one line that names it by ``label``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"cannot read {label}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise error(f"{label} is larger than {max_bytes // 1024} KiB; refusing it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{label} is not UTF-8 text (byte {exc.start})") from None
