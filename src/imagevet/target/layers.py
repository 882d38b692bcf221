"""Container layers as a read-only tree, without extracting them to disk.

Each layer is a tar stream. Uncompressed layers are indexed in place (headers only, by seeking); gzip or
zstd layers are decompressed on demand into a private temporary file while they are indexed (``spool.py``:
size-capped against decompression bombs). Layers are applied in order with OCI/Docker whiteouts:
``.wh.NAME`` deletes NAME from the layers below, ``.wh..wh..opq`` empties a directory of what the layers
below put there. A layer whose digest is known (an OCI blob, a docker-archive ``diff_id``) is checked
against it; one that does not match is refused.

Hostile archives are refused with a TargetError naming the entry by its number and byte offset (never by
its name, which is bytes of the archive): absolute paths, ``..`` components, hard links that point outside
the image or at nothing, paths deeper than MAX_DEPTH. The work an archive may cause is capped: at most
an entry budget in all layers together (tar headers plus the directories they imply; see BASE_ENTRIES),
which bounds both the time and the memory an index takes. Device nodes and FIFOs are not materialised (they
cannot be read anyway). Symbolic links are kept as links and resolved confined to the image like
everywhere else.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from dataclasses import replace
from typing import IO, Any, cast

from imagevet.errors import TargetError
from imagevet.model import ImageConfig, TargetInfo, Unknown
from imagevet.target.confined import DIR, FILE, LINK, OTHER, ConfinedTarget, Node
from imagevet.target.digests import Digest, HashingReader, RangeHasher, check_stream
from imagevet.target.spool import Spool
from imagevet.target.tarindex import Member, TarFormatError, members
from imagevet.target.walk import PendingWalk, WalkQuery

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DEFAULT_MAX_LAYER_BYTES = 16 * 1024**3
# The entry budget of an image (tar headers plus the directories they imply, all layers together):
# BASE_ENTRIES, plus one per BYTES_PER_ENTRY of the layers as stored, at most MAX_ENTRIES. A real file
# costs a 512-byte header plus its data: a Debian root holds ~13k entries in 300 MB (100 MB of gzip), a
# large node_modules image ~150k in 80 MB of gzip (530 bytes an entry), so genuine images stay far below.
# An archive of nothing but headers gzips to 7 bytes an entry (1 byte when they repeat): a few MB of it
# inflates to millions of entries, and indexing costs ~14 us an entry, so it is refused after
# BASE_ENTRIES + size/256 entries, in under a second and 100 MB (docs/benchmarks.md).
# IMAGEVET_MAX_ENTRIES sets a fixed budget instead.
BASE_ENTRIES = 20_000
BYTES_PER_ENTRY = 256
MAX_ENTRIES = 1_000_000
MAX_DEPTH = 256  # path components; the deepest real trees (node_modules) stay far below
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 20 else default


def max_layer_bytes() -> int:
    """The cap on a decompressed layer (IMAGEVET_MAX_LAYER_BYTES), the defence against decompression bombs."""
    return _setting("IMAGEVET_MAX_LAYER_BYTES", DEFAULT_MAX_LAYER_BYTES)


def fixed_max_entries() -> int | None:
    """A fixed entry budget for every image (IMAGEVET_MAX_ENTRIES), when the user sets one."""
    value = _setting("IMAGEVET_MAX_ENTRIES", -1)
    return value if value >= 0 else None


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

    def byte_range(self) -> tuple[int, int, int] | None:
        """(file descriptor, offset, size) of this window, for hashing it with os.pread."""
        try:
            return self._base.fileno(), self._offset, self._size
        except (OSError, ValueError):  # io.UnsupportedOperation is both
            return None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._size - self._pos)
        if length <= 0:
            return 0
        self._base.seek(self._offset + self._pos)
        data = self._base.read(length)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class Entry:
    """One node of the merged tree; slots keep a 500,000-entry index small."""

    __slots__ = ("children", "gid", "kind", "layer", "link", "mode", "offset", "size", "uid")

    def __init__(self, kind: str, size: int = 0, link: str = "", layer: int = -1, offset: int = -1) -> None:
        self.kind, self.size, self.link, self.layer = kind, size, link, layer
        self.offset = offset  # data offset in the layer stream; -1 when the content is not served (sparse)
        self.mode = self.uid = self.gid = -1
        self.children: dict[str, Entry] = {} if kind == DIR else _NO_CHILDREN


_NO_CHILDREN: dict[str, Entry] = {}


def image_config(config: dict[str, object]) -> ImageConfig:
    """The parts of an OCI/Docker image config that matter for an audit (types checked by manifests.py)."""
    inner = config.get("config") or config.get("container_config") or {}
    settings = inner if isinstance(inner, dict) else {}

    def strings(key: str) -> tuple[str, ...]:
        value = settings.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    history = config.get("history")
    user = settings.get("User")
    return ImageConfig(
        user=user if isinstance(user, str) else "",
        entrypoint=strings("Entrypoint"),
        cmd=strings("Cmd"),
        env=strings("Env"),
        history=len(history) if isinstance(history, list) else 0,
    )


class LayeredTarget(ConfinedTarget):
    """A target over an ordered list of tar layers (a container image) or a single rootfs tarball."""

    def __init__(self, info: TargetInfo, workdir: str) -> None:
        super().__init__(info)
        self._root = Entry(DIR)
        self._layers: list[IO[bytes]] = []
        self._workdir = workdir
        self._entries = 0
        self._fixed_budget = fixed_max_entries()
        self._max_entries = self._fixed_budget if self._fixed_budget is not None else BASE_ENTRIES
        self._current: dict[str, Entry] = {}  # this layer's entries by path (its hard links use them)
        self.special_files = 0  # device nodes, FIFOs, sockets: indexed as present, never read
        self.config: dict[str, object] = {}
        self.resources: list[IO[bytes]] = []  # files to close with the target (an outer archive)

    @property
    def info(self) -> TargetInfo:
        return replace(self._info, image=image_config(self.config)) if self.config else self._info

    # ---- building ----------------------------------------------------------------------------------
    def add_layer(
        self,
        stream: IO[bytes],
        label: str,
        *,
        digest: Digest | None = None,
        diff_id: Digest | None = None,
    ) -> None:
        """Index one layer (a seekable binary stream, compressed or not) on top of the previous ones.

        ``digest`` is the expected digest of the stream as stored (an OCI blob), ``diff_id`` that of the
        uncompressed tar (docker's rootfs.diff_ids); either is checked while the layer is read."""
        stored = stream.seek(0, io.SEEK_END)
        if self._fixed_budget is None:
            self._max_entries = min(MAX_ENTRIES, self._max_entries + stored // BYTES_PER_ENTRY)
        stream.seek(0)
        head = stream.read(4)
        stream.seek(0)
        compressed = head[:2] == GZIP_MAGIC or head == ZSTD_MAGIC
        source: HashingReader | None = None
        if compressed:
            source = HashingReader(stream, digest) if digest is not None else None
            spool = self._spool(source or stream, label, zstd=head == ZSTD_MAGIC, diff_id=diff_id)
            spooled = cast(IO[bytes], spool)  # a RawIOBase that also answers reach()
            self._layers.append(spooled)
            end = self._index(spooled, label, require_end=False)
            spool.finish(end)
            if source is not None:
                source.check(label)
            stream.close()  # everything is in the spool now
        else:
            self._layers.append(stream)
            names = {d: n for d, n in ((diff_id, "diff_id"), (digest, "digest")) if d is not None}
            where = _byte_range(stream, stored)
            hasher = RangeHasher(*where, list(names)) if names and where is not None else None
            try:
                self._index(stream, label, require_end=not names)
            finally:
                if hasher is not None:
                    hasher.check(label, names)  # waits for the thread even when the index failed
            if hasher is None:
                for expected, name in names.items():  # an uncompressed blob's digest is its diff_id
                    check_stream(stream, expected, label, name)

    def _spool(self, stream: Any, label: str, zstd: bool, diff_id: Digest | None) -> Spool:
        if zstd:
            try:
                import zstandard
            except ImportError as exc:
                raise TargetError(f"{label}: zstd layers need the 'zstandard' package") from exc
            reader: Any = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        else:
            reader = gzip.GzipFile(fileobj=stream, mode="rb")
        file = tempfile.NamedTemporaryFile(dir=self._workdir, delete=False)  # noqa: SIM115 (the Spool owns it)
        return Spool(reader, file, max_layer_bytes(), label, diff_id)

    def _index(self, stream: IO[bytes], label: str, require_end: bool) -> int:
        """Read the layer's headers and merge them into the tree; returns where the tar archive ended.

        Entries are collected per layer first (keyed by path: a later duplicate replaces an earlier one,
        as extraction would) and placed afterwards, so a whiteout only removes what lower layers hold."""
        index = len(self._layers) - 1
        current: dict[str, Entry] = {}
        self._current = current
        number = 0
        member: Member | None = None
        try:
            for member in members(stream, require_end=require_end):
                number += 1
                self._entries += 1
                if self._entries > self._max_entries:
                    self._count(label)  # raises
                parts = _clean(member.name)
                if not parts:
                    if member.kind == DIR:  # "./": the runtimes give its mode and owner to the root
                        self._root.mode, self._root.uid = member.mode, member.uid
                        self._root.gid = member.gid
                    continue
                if parts[-1].startswith(WHITEOUT):
                    self._whiteout(parts, index)
                    continue
                current["/".join(parts)] = self._entry(member, index)
        except TarFormatError as exc:
            raise TargetError(f"{label}: not a well-formed tar layer ({exc})") from exc
        except _Hostile as exc:
            where = f"entry #{number} at byte {member.header}" if member is not None else "an entry"
            raise TargetError(f"{label}: {where} {exc} (hostile archive)") from None
        end = stream.tell()
        current, self._current = self._current, {}
        for key, entry in current.items():
            self._place(key.split("/"), entry, label)
        return end

    def _whiteout(self, parts: list[str], index: int) -> None:
        """``.wh..wh..opq`` empties a directory of lower layers' entries; ``.wh.NAME`` deletes NAME."""
        parent = self._lookup(parts[:-1])
        if parent is None or parent.kind != DIR:
            return
        if parts[-1] == OPAQUE:
            for child in [name for name, entry in parent.children.items() if entry.layer < index]:
                del parent.children[child]
        else:
            parent.children.pop(parts[-1][len(WHITEOUT) :], None)

    def _count(self, label: str) -> None:
        self._entries += 1
        if self._entries > self._max_entries:
            raise TargetError(
                f"{label}: more than {self._max_entries} entries in the image; refusing it "
                "(raise IMAGEVET_MAX_ENTRIES if it is genuine)"
            )

    def _entry(self, member: Member, index: int) -> Entry:
        kind = member.kind
        if kind == "file":
            entry = Entry(FILE, member.size, layer=index, offset=member.offset)
        elif kind == "dir":
            entry = Entry(DIR, layer=index)
        elif kind == "symlink":
            entry = Entry(LINK, link=member.linkname, layer=index)
        elif kind == "hardlink":
            target_parts = _clean(member.linkname)
            source = self._current.get("/".join(target_parts)) or self._lookup(target_parts)
            if source is None or source.kind != FILE:
                raise _Hostile("is a hard link to something that is not a file in the image")
            entry = Entry(FILE, source.size, layer=source.layer, offset=source.offset)
        elif kind == "sparse":
            entry = Entry(FILE, member.size, layer=index, offset=-1)
        else:
            self.special_files += 1
            entry = Entry(OTHER, layer=index)
        entry.mode, entry.uid, entry.gid = member.mode, member.uid, member.gid
        return entry

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

    def _place(self, parts: list[str], entry: Entry, label: str) -> None:
        node = self._root
        for part in parts[:-1]:
            child = node.children.get(part)
            if child is None or child.kind != DIR:
                self._count(label)  # a directory the archive implies costs like one it declares
                child = Entry(DIR, layer=entry.layer)
                node.children[part] = child
            node = child
        existing = node.children.get(parts[-1])
        if existing is not None and existing.kind == DIR and entry.kind == DIR:
            existing.layer = entry.layer  # a directory re-declared by an upper layer keeps its children
            existing.mode, existing.uid, existing.gid = entry.mode, entry.uid, entry.gid
            return
        node.children[parts[-1]] = entry

    def start_walk(self, query: WalkQuery) -> PendingWalk:
        """The walk over the merged index. A directory no layer declares (a parent a tar entry implies) is
        taken as the runtimes make it: moby's and podman's archive code create a missing parent with
        idtools.MkdirAllAndChownNew(parentPath, 0o777, rootIDs), so root:root and 0777 less the daemon's
        umask, 022 unless its service file changes it: 0755."""
        from imagevet.target.walk import Deferred, walk_confined

        implied = Node(DIR, mode=0o755, uid=0, gid=0)
        return Deferred(lambda: walk_confined(self, query, implied))

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
        except (OSError, TargetError) as exc:
            return Unknown(f"{path} cannot be read from its layer: {exc}")

    def close(self) -> None:
        """Close the layers and remove the private work directory (decompressed layers, copies)."""
        for layer in [*self._layers, *self.resources]:
            layer.close()
        shutil.rmtree(self._workdir, ignore_errors=True)
        super().close()


class _Hostile(Exception):
    """An entry the image cannot hold (the caller adds which entry it is)."""


def _byte_range(stream: IO[bytes], size: int) -> tuple[int, int, int] | None:
    """Where a layer's bytes are on disk (a file, or a Window over one), or None (in memory)."""
    raw = getattr(stream, "raw", None)
    if isinstance(raw, Window):
        return raw.byte_range()
    try:
        return stream.fileno(), 0, size
    except (OSError, ValueError):
        return None


def _clean(name: str) -> list[str]:
    """Path components of a tar member name (or a hard link's target); refuses absolute paths, ``..`` and
    absurd depth."""
    if name.startswith("/"):
        raise _Hostile("has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _Hostile("climbs out of the image with '..'")
    if len(parts) > MAX_DEPTH:
        raise _Hostile(f"is more than {MAX_DEPTH} directories deep")
    return parts
