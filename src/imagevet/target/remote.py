"""Disk images audited where they live: an AMI's EBS snapshot (``ami:ami-…``) and a disk image behind an
HTTP(S) URL (``https://…``, ``http://…``, or the same after ``disk:``).

Each becomes a BlockSource (ebs.py, http.py), read through a BlockStream (blocks.py) with the on-disk
block cache (blockcache.py), and then exactly like a local ``disk:`` image (disk.py): the same format
checks, partitions and filesystems, so the audit of a remote image equals the audit of the same bytes on
this machine. The report's ``target.source`` records where the bytes came from and what they cost.
"""

from __future__ import annotations

from typing import Any

from imagevet.model import SourceInfo
from imagevet.target.base import Target
from imagevet.target.blockcache import DiskBlockCache
from imagevet.target.blocks import BlockSource, BlockStream, RemoteOptions


def open_remote(spec: str, options: RemoteOptions) -> Target:
    """Open an ``ami:`` or URL target (see the module docstring); raises TargetError in one line."""
    if spec.startswith("ami:"):
        from imagevet.target.ebs import open_ami_source

        source, details = open_ami_source(spec.removeprefix("ami:"), options)
        return disk_over(spec, source, options, details)
    url = spec.removeprefix("disk:")
    from imagevet.target.http import open_url_source

    opened = open_url_source(url, options)
    if isinstance(opened, tuple):
        source, details = opened
        return disk_over(spec, source, options, details)
    return opened  # --download: the whole file, fetched into a private temporary copy


def disk_over(spec: str, source: BlockSource, options: RemoteOptions, details: dict[str, str]) -> Target:
    """A DiskTarget reading ``source`` through a BlockStream (and the disk cache, when the source has a
    stable identity and a cache directory is set)."""
    from imagevet.target.disk import DiskTarget

    store = None
    key = source.cache_key()
    if key is not None and options.cache_dir is not None:
        store = DiskBlockCache.open(options.cache_dir, key, options.cache_max_bytes)
    stream = BlockStream(source, store, options.progress)
    frozen = tuple(sorted(details.items()))

    def info() -> SourceInfo:
        if not stream.closed:
            stream.settle()
        return SourceInfo(
            kind=source.kind,
            location=source.location,
            size=source.size,
            block_size=source.block_size,
            requests=source.requests(),
            fetched_bytes=stream.stats.fetched_bytes,
            cached_bytes=stream.stats.cached_bytes,
            details=frozen,
        )

    # The report shows the target as given, but a signed URL's query is a credential: never recorded.
    shown = spec if source.kind == "ebs" else ("disk:" if spec.startswith("disk:") else "") + source.location
    image: Any = stream
    return DiskTarget(shown, image, source.location, None, info)  # it closes the stream if it cannot open
