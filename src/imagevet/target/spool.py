"""A compressed layer decompressed on demand into a private file, so indexing and decompression are one pass.

The tar index reads a layer forward (headers, then seeks over data); a ``Spool`` decompresses just far
enough to answer each read or seek and keeps what it decompressed in a temporary file, from which file
contents are served later. That bounds the work a small hostile input can cause:

- the decompressed size is capped (``limit``: the decompression-bomb guard);
- runs of zeros are not written (the file is sparse), so a bomb of zeros costs no disk;
- once the tar index reaches the end-of-archive block, only ``MAX_TRAILING`` more bytes may follow (a real
  tar pads to its record size, at most a few KiB), so a tiny archive followed by gigabytes of compressed
  zeros is refused after a few milliseconds instead of being inflated to the cap.

Decompressor errors (damaged gzip or zstd data, a stream cut short) become a TargetError. When a digest
of the uncompressed content is expected (docker's ``diff_ids``), it is computed as the data passes.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

from imagevet.errors import TargetError
from imagevet.target.digests import Digest

CHUNK = 1 << 20
MAX_TRAILING = 8 << 20
_ZEROS_VIEW = memoryview(bytes(CHUNK))


class Spool(io.RawIOBase):
    """A seekable, read-only view of a decompressed stream, filled lazily from ``reader``."""

    def __init__(
        self, reader: Any, file: IO[bytes], limit: int, label: str, content_digest: Digest | None = None
    ) -> None:
        super().__init__()
        self._reader, self._file, self._limit, self._label = reader, file, limit, label
        self._fd = file.fileno()
        self._size = 0  # bytes decompressed so far
        self._buffer, self._buffer_at = b"", 0  # read-ahead: the decompressed bytes from _buffer_at
        self._pos = 0
        self._done = False
        self._digest = content_digest
        self._hash = content_digest.hasher() if content_digest is not None else None

    # ---- filling -----------------------------------------------------------------------------------
    def _more(self) -> bool:
        """Decompress the next chunk; False at the end of the compressed stream."""
        if self._done:
            return False
        try:
            chunk = self._reader.read(CHUNK)
        except TargetError:
            raise
        except Exception as exc:  # zlib.error, EOFError, BadGzipFile, zstd.ZstdError: all damage
            module = type(exc).__module__.split(".")[0]
            name = type(exc).__name__ if module in ("builtins", "gzip") else f"{module}.{type(exc).__name__}"
            raise TargetError(
                f"{self._label}: damaged compressed layer ({name} after {self._size} decompressed bytes)"
            ) from exc
        if not chunk:
            self._done = True
            os.ftruncate(self._fd, self._size)
            return False
        if self._size + len(chunk) > self._limit:
            raise TargetError(
                f"{self._label}: decompresses to more than {self._limit} bytes; refusing it "
                "(raise IMAGEVET_MAX_LAYER_BYTES if it is genuine)"
            )
        if self._hash is not None:
            self._hash.update(chunk)
        if _ZEROS_VIEW[: len(chunk)] == chunk:
            os.ftruncate(self._fd, self._size + len(chunk))  # a hole: no disk for runs of zeros
        else:
            os.pwrite(self._fd, chunk, self._size)
        self._size += len(chunk)
        return True

    def reach(self, upto: int) -> bool:
        """Whether the decompressed stream is at least ``upto`` bytes long (decompressing as needed)."""
        while self._size < upto and self._more():
            pass
        return self._size >= upto

    def finish(self, end_of_archive: int) -> None:
        """Decompress the rest (the compression trailer is checked), allowing at most MAX_TRAILING bytes
        after ``end_of_archive``; then check the uncompressed content's digest, if one is expected."""
        while self._more():
            if self._size - end_of_archive > MAX_TRAILING:
                raise TargetError(
                    f"{self._label}: more than {MAX_TRAILING} bytes follow the end of the tar archive"
                )
        if (
            self._hash is not None
            and self._digest is not None
            and self._hash.hexdigest() != self._digest.encoded
        ):
            raise TargetError(
                f"{self._label}: uncompressed content does not match its diff_id {self._digest.short()}..."
            )

    # ---- reading -----------------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            self.reach(1 << 62)
            position += self._size
        elif whence == io.SEEK_CUR:
            position += self._pos
        self._pos = max(0, position)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all the rest for -1). The tar index calls this once per 512-byte header,
        so reads are served from a read-ahead buffer of CHUNK bytes."""
        if size < 0:
            self.reach(1 << 62)
            size = self._size - self._pos
        start = self._pos - self._buffer_at
        if start >= 0 and start + size <= len(self._buffer):
            self._pos += size
            return self._buffer[start : start + size]
        self.reach(self._pos + max(size, CHUNK))
        length = min(max(size, CHUNK), self._size - self._pos)
        if length <= 0:
            return b""
        self._buffer, self._buffer_at = os.pread(self._fd, length, self._pos), self._pos
        data = self._buffer[:size]
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        self.reach(self._pos + len(view))
        length = max(0, min(len(view), self._size - self._pos))
        if length == 0:
            return 0
        data = os.pread(self._fd, length, self._pos)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()
