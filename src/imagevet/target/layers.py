"""Container layers as a read-only tree, without extracting them to disk.

Each layer is a tar stream. Uncompressed layers are indexed in place (headers only, by seeking); gzip or
zstd layers are first decompressed into a private temporary file (size-capped against decompression
bombs). Layers are applied in order with OCI/Docker whiteouts: ``.wh.NAME`` deletes NAME from the layers
below, ``.wh..wh..opq`` empties a directory of what the layers below put there.

Hostile archives are refused with a TargetError naming the entry: absolute paths, ``..`` components, hard
links that point outside the image or at nothing. Device nodes and FIFOs are not materialised (they cannot
be read anyway). Symbolic links are kept as links and resolved confined to the image like everywhere else.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from typing import IO, Any

from imagevet.errors import TargetError
from imagevet.model import ImageConfig, TargetInfo, Unknown
from imagevet.target.confined import DIR, FILE, LINK, OTHER, ConfinedTarget, Node
from imagevet.target.tarindex import Member, TarFormatError, members

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DEFAULT_MAX_LAYER_BYTES = 16 * 1024**3
MAX_ENTRIES = 2_000_000
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def max_layer_bytes() -> int:
    """The cap on a decompressed layer (IMAGEVET_MAX_LAYER_BYTES), the defence against decompression bombs."""
    value = os.environ.get("IMAGEVET_MAX_LAYER_BYTES", "")
    return int(value) if value.isdigit() else DEFAULT_MAX_LAYER_BYTES


class Window(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes at ``offset`` of another file (a tar member)."""

    def __init__(self, base: IO[bytes], offset: int, size: int) -> None:
        self._base, self._offset, self._size, self._pos = base, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, min(self._size, base + position))
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._size - self._pos)
        if length <= 0:
            return 0
        self._base.seek(self._offset + self._pos)
        data = self._base.read(length)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


@dataclass
class Entry:
    kind: str
    size: int = 0
    link: str = ""
    layer: int = -1
    offset: int = -1  # data offset in the layer stream; -1 when the content is not served (sparse)
    mode: int = -1
    uid: int = -1
    gid: int = -1
    children: dict[str, Entry] = field(default_factory=dict)


def image_config(config: dict[str, object]) -> ImageConfig:
    """The parts of an OCI/Docker image config that matter for an audit."""
    inner = config.get("config") or config.get("container_config") or {}
    settings = inner if isinstance(inner, dict) else {}

    def strings(key: str) -> tuple[str, ...]:
        value = settings.get(key)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    history = config.get("history")
    return ImageConfig(
        user=str(settings.get("User") or ""),
        entrypoint=strings("Entrypoint"),
        cmd=strings("Cmd"),
        env=strings("Env"),
        history=len(history) if isinstance(history, list) else 0,
    )


def _clean(name: str) -> list[str]:
    """Path components of a tar member name; refuses absolute paths and ``..``."""
    if name.startswith("/"):
        raise TargetError(f"hostile archive: entry {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise TargetError(f"hostile archive: entry {name!r} climbs out of the image with '..'")
    return parts


class LayeredTarget(ConfinedTarget):
    """A target over an ordered list of tar layers (a container image) or a single rootfs tarball."""

    def __init__(self, info: TargetInfo, workdir: str) -> None:
        super().__init__(info)
        self._root = Entry(DIR)
        self._layers: list[IO[bytes]] = []
        self._workdir = workdir
        self._entries = 0
        self.special_files = 0  # device nodes, FIFOs, sockets: indexed as present, never read
        self.config: dict[str, object] = {}
        self.resources: list[IO[bytes]] = []  # files to close with the target (an outer archive)

    @property
    def info(self) -> TargetInfo:
        return replace(self._info, image=image_config(self.config)) if self.config else self._info

    # ---- building ----------------------------------------------------------------------------------
    def add_layer(self, stream: IO[bytes], label: str) -> None:
        """Index one layer (a seekable binary stream, compressed or not) on top of the previous ones."""
        head = stream.read(4)
        stream.seek(0)
        if head[:2] == GZIP_MAGIC or head == ZSTD_MAGIC:
            stream = self._decompress(stream, label, zstd=head == ZSTD_MAGIC)
        index = len(self._layers)
        self._layers.append(stream)
        added: list[tuple[list[str], Entry]] = []
        self._current: dict[tuple[str, ...], Entry] = {}
        try:
            for member in members(stream):
                self._entries += 1
                if self._entries > MAX_ENTRIES:
                    raise TargetError(f"{label}: more than {MAX_ENTRIES} entries; refusing the archive")
                parts = _clean(member.name)
                if not parts:
                    continue
                name = parts[-1]
                if name == OPAQUE:
                    directory = self._lookup(parts[:-1])
                    if directory is not None and directory.kind == DIR:
                        for child in list(directory.children):
                            if directory.children[child].layer < index:
                                del directory.children[child]
                    continue
                if name.startswith(WHITEOUT):
                    parent = self._lookup(parts[:-1])
                    if parent is not None:
                        parent.children.pop(name[len(WHITEOUT) :], None)
                    continue
                entry = self._entry(member, parts, index, label)
                if entry is not None:
                    added.append((parts, entry))
                    self._current[tuple(parts)] = entry
        except TarFormatError as exc:
            raise TargetError(f"{label}: not a well-formed tar layer ({exc})") from exc
        for parts, entry in added:
            self._place(parts, entry)

    def _decompress(self, stream: IO[bytes], label: str, zstd: bool) -> IO[bytes]:
        limit = max_layer_bytes()
        target = tempfile.NamedTemporaryFile(dir=self._workdir, delete=False)  # noqa: SIM115
        if zstd:
            try:
                import zstandard
            except ImportError as exc:
                raise TargetError(f"{label}: zstd layers need the 'zstandard' package") from exc
            reader: Any = zstandard.ZstdDecompressor().stream_reader(stream)
        else:
            reader = gzip.GzipFile(fileobj=stream)
        written = 0
        try:
            while True:
                chunk = reader.read(1 << 20)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise TargetError(
                        f"{label}: decompresses to more than {limit} bytes; refusing it "
                        "(raise IMAGEVET_MAX_LAYER_BYTES if it is genuine)"
                    )
                target.write(chunk)
        except (OSError, EOFError) as exc:
            raise TargetError(f"{label}: damaged compressed layer ({exc})") from exc
        target.flush()
        target.seek(0)
        return target

    def _entry(self, member: Member, parts: list[str], index: int, label: str) -> Entry | None:
        entry = self._entry_kind(member, index, label)
        if entry is not None:
            entry.mode, entry.uid, entry.gid = member.mode, member.uid, member.gid
        return entry

    def _entry_kind(self, member: Member, index: int, label: str) -> Entry | None:
        if member.kind == "dir":
            return Entry(DIR, layer=index)
        if member.kind == "symlink":
            return Entry(LINK, link=member.linkname, layer=index)
        if member.kind == "hardlink":
            target_parts = _clean(member.linkname)
            source = self._current.get(tuple(target_parts)) or self._lookup(target_parts)
            if source is None or source.kind != FILE:
                raise TargetError(
                    f"hostile archive: hard link {member.name!r} points at {member.linkname!r}, "
                    "which is not a file in the image"
                )
            return Entry(FILE, source.size, layer=source.layer, offset=source.offset)
        if member.kind == "file":
            return Entry(FILE, member.size, layer=index, offset=member.offset)
        if member.kind == "sparse":
            return Entry(FILE, member.size, layer=index, offset=-1)
        self.special_files += 1
        return Entry(OTHER, layer=index)

    def _lookup(self, parts: list[str]) -> Entry | None:
        node = self._root
        for part in parts:
            if node.kind != DIR:
                return None
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node

    def _place(self, parts: list[str], entry: Entry) -> None:
        node = self._root
        for part in parts[:-1]:
            child = node.children.get(part)
            if child is None or child.kind != DIR:
                child = Entry(DIR, layer=entry.layer)
                node.children[part] = child
            node = child
        existing = node.children.get(parts[-1])
        if existing is not None and existing.kind == DIR and entry.kind == DIR:
            existing.layer = entry.layer  # a directory re-declared by an upper layer keeps its children
            return
        node.children[parts[-1]] = entry

    # ---- primitives --------------------------------------------------------------------------------
    def _node(self, parts: list[str]) -> Node | None:
        entry = self._lookup(parts)
        if entry is None:
            return None
        return Node(entry.kind, entry.size, entry.mode, entry.uid, entry.gid)

    def _link(self, parts: list[str]) -> str:
        entry = self._lookup(parts)
        if entry is None or entry.kind != LINK:
            raise OSError(f"/{'/'.join(parts)} is not a link")
        return entry.link

    def _names(self, parts: list[str]) -> list[str]:
        entry = self._lookup(parts)
        if entry is None or entry.kind != DIR:
            raise OSError(f"/{'/'.join(parts)} is not a directory")
        return list(entry.children)

    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        entry = self._lookup(parts)
        if entry is None or entry.kind != FILE:
            return Unknown(f"{path} is not a regular file")
        if entry.offset < 0:
            return Unknown(f"{path} is a sparse file in its layer; its content is not read")
        try:
            stream = self._layers[entry.layer]
            stream.seek(entry.offset)
            return stream.read(min(entry.size, max_bytes + 1))
        except OSError as exc:
            return Unknown(f"{path} cannot be read from its layer: {exc}")

    def close(self) -> None:
        """Close the layers and remove the private work directory (decompressed layers, copies)."""
        for layer in [*self._layers, *self.resources]:
            layer.close()
        shutil.rmtree(self._workdir, ignore_errors=True)
        super().close()
