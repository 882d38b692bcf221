"""The digest an attestation binds: of the image file (docker-archive, tar, disk image), or of a root
filesystem tree (every regular file's path, mode and content, and every link's target, in sorted order;
so any change to the tree changes it)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from imagevet.errors import ImagevetError
from imagevet.target.base import REMOTE_PREFIXES

FILE_PREFIXES = ("docker-archive:", "tar:", "disk:")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files + [d for d in subdirectories if os.path.islink(os.path.join(directory, d))]):
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                digest.update(f"L {relative} -> {os.readlink(path)}\n".encode())
            elif stat.S_ISREG(info.st_mode):
                digest.update(f"F {oct(info.st_mode & 0o7777)} {relative} {_file_digest(path)}\n".encode())
    return digest.hexdigest()


def image_digest(spec: str, given: str | None) -> str:
    """``sha256:HEX`` for the target: ``given`` when the user knows it (a registry digest), else computed."""
    if given is not None:
        if not DIGEST.fullmatch(given):
            raise ImagevetError(f"--digest {given!r} is not sha256:<64 hex digits>")
        return given
    if spec.startswith("ssh://"):
        raise ImagevetError("a live host has no image digest: give --digest sha256:…")
    if spec.startswith(REMOTE_PREFIXES):
        raise ImagevetError(
            "a remote image is read in parts, never whole: give --digest sha256:… (a URL's published "
            "checksum, or the digest your pipeline recorded when it built the AMI)"
        )
    if spec.startswith(FILE_PREFIXES):
        path = Path(spec.split(":", 1)[1])
        if not path.is_file():
            raise ImagevetError(f"{path} is not a file")
        return "sha256:" + _file_digest(path)
    directory = Path(spec.split(":", 1)[1].split("@", 1)[0] if spec.startswith("oci:") else spec)
    if not directory.is_dir():
        raise ImagevetError(f"{directory} is not a directory")
    return "sha256:" + tree_digest(directory)
