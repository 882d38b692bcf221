"""Interrupted runs clean up: SIGTERM unwinds like Ctrl-C (SIGINT), so the temporary files a run made
(decompressed layers of an image) are removed and the exit code says what happened (143, 130)."""

from __future__ import annotations

import gzip
import io
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.support.cli import IMAGEVET


def big_rootfs_tarball(path: Path) -> Path:
    """A gzip'd root filesystem tarball whose decompression takes a few seconds (mostly one large file of
    zeros, which gzip compresses a thousandfold), with an os-release so it is a plausible image."""
    os_release = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    with gzip.open(path, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("etc/os-release")
        info.size = len(os_release)
        tar.addfile(info, io.BytesIO(os_release))
        zeros = tarfile.TarInfo("var/lib/big.img")
        zeros.size = 2 * 1024**3

        class Zeros(io.RawIOBase):
            left = zeros.size

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
                size = min(len(buffer), self.left)
                buffer[:size] = bytes(size)
                self.left -= size
                return size

        tar.addfile(zeros, io.BufferedReader(Zeros(), 1 << 20))
    return path


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return big_rootfs_tarball(tmp_path_factory.mktemp("image") / "rootfs.tar.gz")


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_an_interrupted_audit_removes_its_temporary_files(
    tarball: Path, tmp_path: Path, signum: int, code: int, said: str
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen(
        [*IMAGEVET, "audit", f"tar:{tarball}"],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(scratch.rglob("*")):
        time.sleep(0.05)
    time.sleep(0.3)  # decompression is under way
    assert process.poll() is None, "the audit finished before it could be interrupted"
    assert any(scratch.rglob("*")), "the audit made no temporary file to clean up"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"imagevet: {said}"
    assert list(scratch.iterdir()) == []
