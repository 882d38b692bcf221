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
    return cost_line(source.fetched_bytes, source.size, source.requests, source.cached_bytes, source.location)


def cost_line(fetched: int, size: int, requests: int, cached: int, location: str) -> str:
    """``source_line`` of the numbers, as a report's ``target.source`` document holds them."""
    share = fetched / size * 100 if size else 0.0
    from_cache = f", {size_text(cached)} from the block cache" if cached else ""
    return (
        f"read {size_text(fetched)} of {size_text(size)} ({share:.2f}%) in "
        f"{requests} requests{from_cache}: {location}"
    )
