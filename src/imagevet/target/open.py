"""Turn the user's TARGET argument into a target object.

``DIR`` (``/`` is this host), ``docker-archive:FILE.tar``, ``oci:DIR[@TAG|@DIGEST]``,
``tar:FILE.tar[.gz|.zst]``, ``disk:FILE`` (qcow2, vmdk, vhd, vhdx, raw), ``ssh://[user@]host[:port]``;
remote disk images: ``ami:ami-…`` (its EBS snapshot) and ``http(s)://…`` (or ``disk:http(s)://…``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from imagevet.errors import TargetError
from imagevet.target.base import REMOTE_PREFIXES, Target
from imagevet.target.rootfs import RootfsTarget

if TYPE_CHECKING:  # each imported by the branch that opens its kind of target
    from imagevet.target.blocks import RemoteOptions
    from imagevet.target.ssh import SshOptions

PREFIXES = ("docker-archive:", "oci:", "tar:", "disk:")


def open_target(spec: str, ssh: SshOptions | None = None, remote: RemoteOptions | None = None) -> Target:
    """Open ``spec`` as a target; raises TargetError with a one-line reason when it cannot."""
    if not spec:
        raise TargetError("no target given")
    if spec.startswith(REMOTE_PREFIXES):
        from imagevet.target.blocks import RemoteOptions
        from imagevet.target.remote import open_remote

        return open_remote(spec, remote or RemoteOptions())
    if spec.startswith("ssh://"):
        from imagevet.target.ssh import SshOptions, SshTarget

        return SshTarget(spec, ssh or SshOptions())
    if spec.startswith(PREFIXES):
        return _open_archive(spec)
    if not os.path.exists(spec):
        raise TargetError(f"target {spec!r} does not exist")
    if not os.path.isdir(spec):
        raise TargetError(
            f"target {spec!r} is not a directory (use docker-archive:, oci: or tar: for image files)"
        )
    if not os.access(spec, os.R_OK | os.X_OK):
        raise TargetError(f"target {spec!r} is not readable")
    live = os.path.realpath(spec) == "/"
    return RootfsTarget(spec, live_host=live, kind="host" if live else "rootfs")


@contextmanager
def opened_target(
    spec: str, ssh: SshOptions | None = None, remote: RemoteOptions | None = None
) -> Iterator[Target]:
    """``open_target`` for the length of a ``with`` block: the target is closed on the way out, so the
    decompressed layers, scratch copies and connections it holds never outlive the command. When a read
    failed part-way (a remote block), leaving the block raises that failure, whatever the block made of
    the partial image: a half-read image is never a result."""
    target = open_target(spec, ssh, remote)
    try:
        yield target
    finally:
        target.close()
    failed = target.failure()
    if failed is not None:  # a read failed part-way: whatever the block computed is not trusted
        raise TargetError(failed)


def _open_archive(spec: str) -> Target:
    from imagevet.target import archives

    kind, _, rest = spec.partition(":")
    if kind == "oci":
        location, _, reference = rest.partition("@")
        path = Path(location)
        if not path.is_dir():
            raise TargetError(f"{location!r} is not an OCI layout directory")
        return archives.open_oci_layout(spec, path, reference or None)
    path = Path(rest)
    if not path.is_file():
        raise TargetError(f"{rest!r} does not exist or is not a file")
    if kind == "disk":
        from imagevet.target.disk import open_disk_file

        return open_disk_file(spec, path)
    if kind == "docker-archive":
        return archives.open_docker_archive(spec, path)
    return archives.open_tarball(spec, path)
