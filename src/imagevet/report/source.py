"""One line on what reading a remote disk image cost: for stderr after the command, and the table report."""

from __future__ import annotations

from imagevet.model import SourceInfo


def size_text(count: int) -> str:
    """Bytes as people read them: 512 B, 1.5 MiB, 2.0 GiB."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def source_line(source: SourceInfo) -> str:
    """Bytes fetched of the image's size, requests, and what the block cache served."""
    share = source.fetched_bytes / source.size * 100 if source.size else 0.0
    cached = f", {size_text(source.cached_bytes)} from the block cache" if source.cached_bytes else ""
    return (
        f"read {size_text(source.fetched_bytes)} of {size_text(source.size)} ({share:.2f}%) in "
        f"{source.requests} requests{cached}: {source.location}"
    )
