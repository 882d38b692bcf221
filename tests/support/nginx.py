"""A real nginx for tests (tests/target/test_http*.py): serves a directory on a free port of 127.0.0.1.

nginx runs in the foreground (``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'``) with its pid file, logs
and temp paths inside its own folder, so nothing of the machine's nginx is touched. Its access log has one
line per request, ``METHOD URI RANGE STATUS BODY_BYTES`` (``-`` for no Range), so a test can prove which
bytes were fetched. ``ranges=False`` serves with ``max_ranges 0;`` (Range ignored: always a 200 with the
whole file); ``tls`` (a certificate and key, ``self_signed``) makes it https.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.moto import free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

_CONFIG = """
{user}
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format ranges '$request_method $uri $http_range $status $body_bytes_sent';
    access_log {folder}/access.log ranges;
    client_body_temp_path {folder}/tmp/client;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{port}{ssl};
        server_name localhost;
        {tls}
        root {root};
        {ranges}
        location / {{ }}
        {extra}
    }}
}}
"""


@dataclass(frozen=True)
class LogEntry:
    method: str
    uri: str
    range: str | None
    status: int
    bytes: int


@dataclass(frozen=True)
class Nginx:
    base_url: str
    log: Path
    root: Path

    def entries(self, at_least: int = 0, wait: float = 3.0) -> list[LogEntry]:
        """The access log so far (waiting up to ``wait`` s for ``at_least`` lines: nginx logs a request
        once it has sent the response, a moment after the client has it)."""
        deadline = time.monotonic() + wait
        while True:
            lines = self.log.read_text().splitlines() if self.log.exists() else []
            if len(lines) >= at_least or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        out = []
        for line in lines:
            method, uri, ranges, status, sent = line.split(" ")
            out.append(LogEntry(method, uri, None if ranges == "-" else ranges, int(status), int(sent)))
        return out

    def clear_log(self) -> None:
        self.log.write_text("")


def nginx_available() -> bool:
    return NGINX is not None


def require_nginx() -> str:
    """nginx's path; skips without it (in CI, tests/conftest.py turns the skip into a failure)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return NGINX


def self_signed(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate (a CA for itself) for the IP address ``name``, made by openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
                "-addext", f"subjectAltName=IP:{name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    return cert, key


@contextmanager
def start_nginx(
    folder: Path,
    root: Path,
    ranges: bool = True,
    tls: tuple[Path, Path] | None = None,
    extra: str = "",
) -> Iterator[Nginx]:
    """nginx serving ``root`` on a free port of 127.0.0.1; yields its base URL and access log. ``extra``
    is more of the server block (``location`` blocks, ``return 302 …``)."""
    binary = require_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = _CONFIG.format(
        user="user root;" if os.geteuid() == 0 else "",
        folder=folder,
        port=port,
        ssl=" ssl" if tls else "",
        tls=f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else "",
        root=root,
        ranges="" if ranges else "max_ranges 0;",
        extra=extra,
    )
    (folder / "nginx.conf").write_text(config)
    log = (folder / "stderr.log").open("w")
    proc = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    scheme = "https" if tls else "http"
    try:
        for _ in range(100):
            if proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        if proc.poll() is not None:
            errors = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
            raise RuntimeError(f"nginx ended: {(folder / 'stderr.log').read_text()[-500:]}{errors[-500:]}")
        yield Nginx(f"{scheme}://127.0.0.1:{port}", folder / "access.log", root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
