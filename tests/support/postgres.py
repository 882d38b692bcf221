"""A throwaway PostgreSQL cluster from Debian's packages: initdb in a temporary directory owned by the
`postgres` user, listening on a free port on 127.0.0.1 only, stopped (and removed) afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin/initdb")), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def available() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return postgres_bin() is not None and os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def cluster(workdir: Path) -> Iterator[str]:
    """Yields a SQLAlchemy URL (psycopg 3) to a fresh database `imagevet`."""
    binaries = postgres_bin()
    assert binaries is not None
    user = pwd.getpwnam("postgres")
    data = workdir / "pgdata"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chown(workdir, user.pw_uid, user.pw_gid)
    port = _free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120
        )

    as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={workdir} -c fsync=off"
    )
    as_postgres(
        str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"
    )
    try:
        as_postgres(
            str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "imagevet"
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/imagevet"
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "fast",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(workdir, ignore_errors=True)
