"""Content digests (``sha256:<hex>``, ``sha512:<hex>``) as the OCI image spec defines them, checked while
the content is read.

An image layout or a docker-archive names every blob by its digest; a blob whose bytes do not hash to that
name has been damaged or swapped, so it is refused rather than audited. Digests are parsed strictly (only
the two registered algorithms, lower-case hex of the exact length), which also makes them safe to use as
file names.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from typing import IO, Any

from imagevet.errors import TargetError

_ENCODED = {"sha256": re.compile(r"[0-9a-f]{64}"), "sha512": re.compile(r"[0-9a-f]{128}")}
CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    algorithm: str  # sha256 | sha512
    encoded: str  # lower-case hex

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"

    def hasher(self) -> Any:
        return hashlib.new(self.algorithm)

    def short(self) -> str:
        """A short form for messages (the digest is the caller's name for the blob, checked to be hex)."""
        return f"{self.algorithm}:{self.encoded[:12]}"


def parse_digest(value: object) -> Digest | None:
    """The digest ``value`` names, or None when it is not a well-formed sha256/sha512 digest."""
    if not isinstance(value, str):
        return None
    algorithm, colon, encoded = value.partition(":")
    pattern = _ENCODED.get(algorithm)
    if not colon or pattern is None or pattern.fullmatch(encoded) is None:
        return None
    return Digest(algorithm, encoded)


class HashingReader:
    """Reads a binary stream forward, hashing every byte that passes (for a decompressor's input)."""

    def __init__(self, stream: IO[bytes], digest: Digest) -> None:
        self._stream, self.digest, self._hash = stream, digest, digest.hasher()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hash.update(data)
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        """Hash what the consumer left unread (trailing bytes after the compressed stream)."""
        while data := self.read(CHUNK):
            del data

    def check(self, what: str, name: str = "digest") -> None:
        """Refuse the content when what was read does not hash to the expected digest (``name``: what the
        manifest calls it, digest or diff_id)."""
        self.drain()
        if self._hash.hexdigest() != self.digest.encoded:
            raise TargetError(f"{what}: content does not match its {name} {self.digest.short()}...")


def check_stream(stream: IO[bytes], digest: Digest, what: str, name: str = "digest") -> None:
    """Hash a whole seekable stream from its start and refuse it when it does not match ``digest``."""
    stream.seek(0)
    reader = HashingReader(stream, digest)
    reader.check(what, name)
    stream.seek(0)


def check_bytes(data: bytes, digest: Digest, what: str) -> None:
    """Refuse ``data`` (a manifest or config already read) when it does not match ``digest``."""
    hasher = digest.hasher()
    hasher.update(data)
    if hasher.hexdigest() != digest.encoded:
        raise TargetError(f"{what}: content does not match its digest {digest.short()}...")


class RangeHasher:
    """Hashes ``size`` bytes at ``offset`` of a file descriptor in a background thread (``os.pread`` and
    hashlib both release the GIL), so an uncompressed layer is verified while its headers are indexed:
    the check costs about max(hash, index) instead of their sum."""

    def __init__(self, fd: int, offset: int, size: int, digests: list[Digest]) -> None:
        self._hashes = [(digest, digest.hasher()) for digest in digests]
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, args=(fd, offset, size), daemon=True)
        self._thread.start()

    def _run(self, fd: int, offset: int, size: int) -> None:
        try:
            end = offset + size
            while offset < end:
                data = os.pread(fd, min(CHUNK, end - offset), offset)
                if not data:
                    break
                offset += len(data)
                for _, hasher in self._hashes:
                    hasher.update(data)
        except OSError as exc:
            self._error = exc

    def check(self, what: str, names: dict[Digest, str]) -> None:
        """Wait for the hash; refuse the content if a digest does not match (``names``: what each is
        called, digest or diff_id)."""
        self._thread.join()
        if self._error is not None:
            raise TargetError(f"{what}: cannot be read to check its digest ({self._error.strerror})")
        for digest, hasher in self._hashes:
            if hasher.hexdigest() != digest.encoded:
                raise TargetError(f"{what}: content does not match its {names[digest]} {digest.short()}...")
