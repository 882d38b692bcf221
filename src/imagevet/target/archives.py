"""Container image archives: ``docker save`` tarballs, OCI image layouts, and plain rootfs tarballs.

Each becomes a LayeredTarget; the image configuration (user, entrypoint, env, history) is kept on the
target for reporting and for container checks.

Everything an archive says is checked before it is believed (fail closed):

- the outer docker-archive tar is indexed by the project's own strict reader with an entry cap, and its
  JSON documents are type-checked (``manifests.py``);
- an OCI layout's files are opened only as regular files inside the layout: every component is opened
  with ``O_NOFOLLOW`` relative to the layout directory, so a blob (or ``blobs/``, ``blobs/sha256/``) that
  is a symbolic link, a FIFO or a device is refused, and a digest is strict hex, so it cannot name a path;
- every blob is verified against its digest and size while it is read (index, manifests, config, layers),
  and layers against the config's ``rootfs.diff_ids``; a docker-archive's layers against ``diff_ids``
  and, where their names are digests (Docker 25+ writes ``blobs/sha256/HEX``), against those.

Messages name a layer by its position and a JSON field by its path, never by text taken from the archive.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import IO

from imagevet.errors import TargetError
from imagevet.model import TargetInfo
from imagevet.target.digests import Digest, check_bytes, parse_digest
from imagevet.target.files import open_regular as _open_regular
from imagevet.target.layers import LayeredTarget, Window
from imagevet.target.manifests import (
    MAX_JSON_BYTES,
    MAX_NESTING,
    Descriptor,
    Manifest,
    docker_manifest,
    image_config,
    load_json,
    oci_index,
    oci_manifest,
    select,
)
from imagevet.target.tarindex import Member, TarFormatError, members

MAX_OUTER_ENTRIES = 65_536  # `docker save` writes about four entries per layer
MAX_LAYERS = 256  # Docker refuses images deeper than 125 layers
MAX_LINK_HOPS = 8
CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
_HEX_NAME = re.compile(r"(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json|\.tar)?")


def _workdir() -> str:
    return tempfile.mkdtemp(prefix="imagevet-target-")


def _read_small(handle: IO[bytes], what: str) -> bytes:
    data = handle.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise TargetError(f"{what} is larger than {MAX_JSON_BYTES} bytes")
    return data


# ---- docker-archive -------------------------------------------------------------------------------
def _normal(name: str) -> str | None:
    """A member name as a path inside the archive, or None when it leaves it."""
    if name.startswith("/"):
        return None
    clean = posixpath.normpath(name)
    return None if clean == ".." or clean.startswith("../") else clean


def _outer_index(handle: IO[bytes], path: Path) -> dict[str, Member]:
    index: dict[str, Member] = {}
    try:
        for number, member in enumerate(members(handle), start=1):
            if number > MAX_OUTER_ENTRIES:
                raise TargetError(f"{path}: more than {MAX_OUTER_ENTRIES} entries; not a docker-archive")
            name = _normal(member.name)
            if name is None:
                raise TargetError(
                    f"{path}: entry #{number} at byte {member.header} has a path outside the archive"
                )
            index[name] = member  # a later entry replaces an earlier one, as when the archive is extracted
    except TarFormatError as exc:
        raise TargetError(f"{path}: not a well-formed docker-archive tarball ({exc})") from exc
    return index


def _regular(index: dict[str, Member], name: str, what: str) -> Member:
    """The regular-file member ``name`` names, following symbolic and hard links inside the archive
    (Docker 25+ writes ``ID/layer.tar`` as a link to ``blobs/sha256/HEX``)."""
    current = _normal(name)
    for _ in range(MAX_LINK_HOPS + 1):
        member = index.get(current) if current is not None else None
        if member is None:
            raise TargetError(f"{what} is missing from the archive")
        if member.kind == "file":
            return member
        if member.kind == "symlink":
            base = "" if member.linkname.startswith("/") else posixpath.dirname(current or "")
            current = _normal(posixpath.join(base, member.linkname.lstrip("/")))
        elif member.kind == "hardlink":
            current = _normal(member.linkname)
        else:
            raise TargetError(f"{what} is not a regular file in the archive")
    raise TargetError(f"{what}: more than {MAX_LINK_HOPS} links in the archive")


def _digest_of_name(name: str) -> Digest | None:
    """The sha256 digest a docker-archive member name carries (``HEX.json``, ``blobs/sha256/HEX``)."""
    match = _HEX_NAME.fullmatch(name)
    return parse_digest(f"sha256:{match.group(1)}") if match else None


def open_docker_archive(spec: str, path: Path) -> LayeredTarget:
    """A ``docker save`` archive: manifest.json names the config and the layers, bottom first."""
    handle = _open_regular(str(path), str(path), follow=True)
    target: LayeredTarget | None = None
    try:
        index = _outer_index(handle, path)

        def read(name: str, what: str) -> bytes:
            member = _regular(index, name, what)
            if member.size > MAX_JSON_BYTES:
                raise TargetError(f"{what} is larger than {MAX_JSON_BYTES} bytes")
            handle.seek(member.offset)
            return handle.read(member.size)

        image = docker_manifest(read("manifest.json", f"{path}: manifest.json"), f"{path}: manifest.json")
        if len(image.layers) > MAX_LAYERS:
            raise TargetError(f"{path}: manifest.json lists more than {MAX_LAYERS} layers")
        config_bytes = read(image.config, f"{path}: the image config")
        config_digest = _digest_of_name(image.config)
        if config_digest is not None:
            check_bytes(config_bytes, config_digest, f"{path}: the image config")
        config = image_config(config_bytes, f"{path}: the image config")
        diff_ids = config.diff_ids
        if diff_ids is not None and len(diff_ids) != len(image.layers):
            raise TargetError(
                f"{path}: the image config's rootfs.diff_ids do not match manifest.json's Layers"
            )
        target = LayeredTarget(TargetInfo(spec, "docker-archive"), _workdir())
        target.resources.append(handle)
        target.config = config.document
        for number, name in enumerate(image.layers, start=1):
            label = f"{path}: layer {number} of {len(image.layers)}"
            member = _regular(index, name, label)
            window = io.BufferedReader(Window(handle, member.offset, member.size))
            target.add_layer(
                window,
                label,
                digest=_digest_of_name(name),
                diff_id=diff_ids[number - 1] if diff_ids is not None else None,
            )
    except BaseException:
        if target is not None:
            target.close()
        else:
            handle.close()
        raise
    return target


# ---- OCI image layout -----------------------------------------------------------------------------
class _Layout:
    """An OCI layout directory, read only through files opened inside it without following links."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise TargetError(f"{path}: not an OCI image layout directory ({exc.strerror})") from exc

    def close(self) -> None:
        os.close(self._fd)

    def top(self, name: str) -> bytes:
        with _open_regular(name, f"{self.path}/{name}", dir_fd=self._fd) as handle:
            return _read_small(handle, f"{self.path}/{name}")

    def blob(self, digest: Digest, size: int, what: str) -> IO[bytes]:
        """The blob file ``blobs/ALGORITHM/HEX``, checked to be a regular file of the descriptor's size."""
        directories: list[int] = []
        try:
            parent = self._fd
            for name in ("blobs", digest.algorithm):
                try:
                    parent = os.open(
                        name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent
                    )
                except OSError as exc:
                    problem = (
                        "is a symbolic link or not a directory"
                        if exc.errno in (errno.ELOOP, errno.ENOTDIR)
                        else "is missing"
                    )
                    raise TargetError(
                        f"{self.path}: blobs/{'' if name == 'blobs' else name} {problem}"
                    ) from exc
                directories.append(parent)
            handle = _open_regular(
                digest.encoded, f"{self.path}: {what} (blob {digest.short()}...)", dir_fd=parent
            )
        finally:
            for fd in directories:
                os.close(fd)
        actual = os.fstat(handle.fileno()).st_size
        if actual != size:
            handle.close()
            raise TargetError(f"{self.path}: {what} is {actual} bytes, its descriptor says {size}")
        return handle

    def document(self, item: Descriptor, what: str) -> bytes:
        """A small blob (manifest, index, config), read and verified against its digest."""
        if item.size > MAX_JSON_BYTES:
            raise TargetError(f"{self.path}: {what} is larger than {MAX_JSON_BYTES} bytes")
        with self.blob(item.digest, item.size, what) as handle:
            data = handle.read(item.size + 1)
        check_bytes(data, item.digest, f"{self.path}: {what}")
        return data


def _manifest(layout: _Layout, chosen: Descriptor) -> Manifest:
    """Follow nested indexes (first platform) down to an image manifest, at most MAX_NESTING deep."""
    seen: set[str] = set()
    for _ in range(MAX_NESTING):
        if str(chosen.digest) in seen:
            raise TargetError(f"{layout.path}: the image index refers to itself")
        seen.add(str(chosen.digest))
        what = f"{layout.path}: manifest {chosen.digest.short()}..."
        parsed = oci_manifest(layout.document(chosen, "a manifest"), what, chosen.media_type)
        if isinstance(parsed, Manifest):
            return parsed
        chosen = parsed[0]
    raise TargetError(f"{layout.path}: image indexes nested more than {MAX_NESTING} deep")


def open_oci_layout(spec: str, path: Path, reference: str | None) -> LayeredTarget:
    """An OCI image layout directory; ``reference`` picks a tag (ref.name annotation) or a digest."""
    layout = _Layout(path)
    target: LayeredTarget | None = None
    try:
        try:
            marker = load_json(layout.top("oci-layout"), f"{path}/oci-layout")
        except TargetError as exc:
            raise TargetError(f"{path}: not an OCI image layout ({exc})") from exc
        if not isinstance(marker, dict) or not isinstance(marker.get("imageLayoutVersion"), str):
            raise TargetError(f"{path}/oci-layout: imageLayoutVersion is not a string")
        manifests = oci_index(layout.top("index.json"), f"{path}/index.json")
        manifest = _manifest(layout, select(manifests, reference, str(path)))
        if manifest.config.media_type not in CONFIG_TYPES:
            raise TargetError(f"{path}: the manifest's config is not a container image config")
        if len(manifest.layers) > MAX_LAYERS:
            raise TargetError(f"{path}: the manifest lists more than {MAX_LAYERS} layers")
        config = image_config(
            layout.document(manifest.config, "the image config"), f"{path}: the image config"
        )
        diff_ids = config.diff_ids
        if diff_ids is not None and len(diff_ids) != len(manifest.layers):
            raise TargetError(
                f"{path}: the image config's rootfs.diff_ids do not match the manifest's layers"
            )
        target = LayeredTarget(TargetInfo(spec, "oci"), _workdir())
        target.config = config.document
        for number, layer in enumerate(manifest.layers, start=1):
            label = f"{path}: layer {number} of {len(manifest.layers)}"
            handle = layout.blob(layer.digest, layer.size, f"layer {number}")
            try:
                target.add_layer(
                    handle,
                    label,
                    digest=layer.digest,
                    diff_id=diff_ids[number - 1] if diff_ids is not None else None,
                )
            except BaseException:
                handle.close()
                raise
    except BaseException:
        if target is not None:
            target.close()
        raise
    finally:
        layout.close()
    return target


def open_tarball(spec: str, path: Path) -> LayeredTarget:
    """A root filesystem tarball (optionally gzip or zstd compressed) as a single layer."""
    handle = _open_regular(str(path), str(path), follow=True)
    target = LayeredTarget(TargetInfo(spec, "tar"), _workdir())
    try:
        target.add_layer(handle, str(path))
    except BaseException:
        handle.close()
        target.close()
        raise
    return target
