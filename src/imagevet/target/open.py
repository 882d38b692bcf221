"""Turn the user's TARGET argument into a target object."""

from __future__ import annotations

import os

from imagevet.errors import TargetError
from imagevet.target.base import Target
from imagevet.target.rootfs import RootfsTarget


def open_target(spec: str) -> Target:
    """Open ``spec`` as a target: a directory holding a root filesystem; ``/`` is the live host."""
    if not spec:
        raise TargetError("no target given")
    if not os.path.exists(spec):
        raise TargetError(f"target {spec!r} does not exist")
    if not os.path.isdir(spec):
        raise TargetError(f"target {spec!r} is not a directory (only unpacked root filesystems for now)")
    if not os.access(spec, os.R_OK | os.X_OK):
        raise TargetError(f"target {spec!r} is not readable")
    live = os.path.realpath(spec) == "/"
    return RootfsTarget(spec, live_host=live, kind="host" if live else "rootfs")
