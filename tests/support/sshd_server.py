"""A real OpenSSH server on 127.0.0.1 with per-run host and client keys, for SSH target tests."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sshd_oracle import SSHD, sshd_available


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SshServer:
    port: int
    client_key: Path
    known_hosts: Path
    wrong_known_hosts: Path
    process: subprocess.Popen[bytes]

    @property
    def spec(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def start_sshd(directory: Path, sftp: str = "internal-sftp", extra: str = "") -> SshServer:
    """sshd on a free port of 127.0.0.1; ``extra`` is appended to its configuration (for example a
    ChrootDirectory, which sshd accepts only under root-owned directories nobody else can write)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key", "other_host_key"):
        if not (directory / name).exists():
            keygen(directory / name)
    (directory / "authorized_keys").write_text((directory / "client_key.pub").read_text())
    port = free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nPidFile {directory / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nMaxStartups 500\nMaxSessions 100\n"
        f"Subsystem sftp {sftp}\n{extra}"
    )
    host_public = (directory / "host_key.pub").read_text().split()
    other_public = (directory / "other_host_key.pub").read_text().split()
    (directory / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
    (directory / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {other_public[0]} {other_public[1]}\n")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL, env={**os.environ}
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("sshd did not start")
    return SshServer(
        port, directory / "client_key", directory / "known_hosts", directory / "wrong_known_hosts", process
    )


def chroot_safe(path: Path) -> bool:
    """Whether sshd accepts PATH as a ChrootDirectory (session.c safely_chroot): every component from /
    down to PATH itself, as stat(2) sees it (links followed), is owned by root and writable by no one else.
    Under /tmp (mode 1777), where $HOME or the test cache may live, it is not."""
    path = Path(os.path.abspath(path))
    for component in (*reversed(path.parents), path):
        info = component.stat()
        if info.st_uid != 0 or info.st_mode & 0o022:
            return False
    return True


# Where a chroot goes when the test cache's own directory is not acceptable to sshd: the FHS place for
# an application's cached data, root-owned 0755 on every system that has sshd.
FALLBACK_CHROOT_PARENT = Path("/var/cache/imagevet-tests")


def make_chroot_parent(preferred: Path) -> Path:
    """A fresh directory under which a ChrootDirectory is accepted by sshd wherever the test cache lives:
    under ``preferred`` (the cache) when sshd accepts it there, else under FALLBACK_CHROOT_PARENT. It is
    made root-owned 0755 whatever the umask; the caller removes it."""
    for base in (preferred, FALLBACK_CHROOT_PARENT):
        existing = next(p for p in (base, *base.parents) if p.exists())
        if not chroot_safe(existing):
            continue
        base.mkdir(parents=True, exist_ok=True)
        for made in (base, *base.parents):  # the components we just created get 0755, umask or not
            if made == existing:
                break
            made.chmod(0o755)
        if not chroot_safe(base):
            continue
        directory = base / f"chroot-{os.getpid()}-{time.monotonic_ns()}"
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
        return directory
    raise RuntimeError(
        f"no directory sshd accepts as a ChrootDirectory parent ({preferred}, {FALLBACK_CHROOT_PARENT})"
    )


@contextmanager
def running_sshd(directory: Path, extra: str = "") -> Iterator[SshServer]:
    """``start_sshd`` for a fixture: skipped where sshd is not installed (fatal in CI), stopped after."""
    if not sshd_available():
        pytest.skip("OpenSSH server (sshd) is not installed")
    server = start_sshd(directory, extra=extra)
    try:
        yield server
    finally:
        server.stop()
