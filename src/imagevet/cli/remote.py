"""Options and messages for remote disk images (``ami:…`` and ``https://…`` targets): the region, the
download fallback, the block cache's place, a progress line while blocks are fetched, and the one line
that says afterwards what reading the image cost."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from imagevet.cli.common import notice, show_progress
from imagevet.cli.declare import Option
from imagevet.report.source import size_text, source_line

RegionOption = Annotated[
    str | None,
    Option(
        "--region",
        envvar="AWS_REGION",
        show_envvar=False,
        help="AWS region of an ami: target (default: $AWS_REGION, else the AWS configuration's).",
    ),
]
DownloadOption = Annotated[
    bool,
    Option(
        "--download", help="A URL whose server cannot serve byte ranges is fetched whole (a private copy)."
    ),
]


def block_cache_dir(env: dict[str, str], home: Path) -> Path | None:
    """$IMAGEVET_BLOCK_CACHE (a directory, or ``off``), else $XDG_CACHE_HOME/imagevet/blocks, else
    ~/.cache/imagevet/blocks."""
    chosen = env.get("IMAGEVET_BLOCK_CACHE", "")
    if chosen.lower() in ("off", "0", "none", "false"):
        return None
    if chosen:
        return Path(chosen)
    xdg = env.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return base / "imagevet" / "blocks"


class _Progress:
    """A line on a terminal's stderr, rewritten at most ten times a second while blocks arrive."""

    def __init__(self) -> None:
        self._last = 0.0
        self._lock = threading.Lock()
        self.shown = False

    def __call__(self, location: str, stats: Any, requests: int) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < 0.1:
                return
            self._last = now
            self.shown = True
            sys.stderr.write(
                f"\rimagevet: fetched {size_text(stats.fetched_bytes)} in {requests} requests from {location}"
                "\x1b[K"
            )
            sys.stderr.flush()

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def remote_options(
    region: str | None = None, download: bool = False, timeout: float = 30.0, progress: bool = True
) -> Any:
    """The RemoteOptions of this run (cache directory from the environment, a progress line on a
    terminal unless ``progress`` is off; ``timeout`` bounds each HTTP request and each block's body)."""
    from imagevet.target.blocks import RemoteOptions

    line = _Progress() if progress and show_progress() else None
    return RemoteOptions(
        region=region,
        download=download,
        timeout=timeout,
        cache_dir=block_cache_dir(dict(os.environ), Path.home()),
        progress=line,
    )


def end_progress(options: Any) -> None:
    if isinstance(options.progress, _Progress):
        options.progress.end()


# Every form opened_target accepts, for the help of each command that takes a TARGET (docs/targets.md).
TARGET_FORMS = (
    "a directory ('/' is this host), docker-archive:FILE, oci:DIR[@TAG], tar:FILE, disk:FILE (raw, qcow2, "
    "VMDK, VHD, VHDX), ssh://[user@]host[:port], ami:AMI-ID, https://…/IMAGE"
)
TARGET_HELP = f"The image: {TARGET_FORMS}."


@contextmanager
def cli_target(spec: str, region: str | None = None, download: bool = False) -> Iterator[Any]:
    """The target of a command (target.opened_target) with this run's remote options; once it is closed,
    stderr says what reading a remote image cost."""
    from imagevet.target import opened_target

    options = remote_options(region, download)
    try:
        with opened_target(spec, None, options) as opened:
            yield opened
    finally:
        end_progress(options)
    info = opened.info
    if info.source is not None:
        notice(source_line(info.source))
