"""Red-team tests of remote disk images (``https://…``, ``disk:https://…``, ``ami:…``): lying and slow web
servers, hostile images over a benign nginx, the on-disk block cache, secrets in every output, and hostile
AMI ids and details.

Every attack that holds is a plain test; every confirmed bug is ``xfail(strict=True, reason="BUG: …")`` so
the suite stays green while the bug is visible (remove the marker once it is fixed).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import stat
import struct
import subprocess
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from imagevet.errors import TargetError
from imagevet.target import http_fetch
from imagevet.target.blockcache import DiskBlockCache
from imagevet.target.blocks import BlockStream, RemoteOptions
from imagevet.target.http import BLOCK_SIZE, HttpSource, open_url_source
from imagevet.target.remote import open_remote
from tests.conftest import FIXTURES
from tests.support.advisories import import_records
from tests.support.cli import run_imagevet
from tests.support.disks import disk_tools_available, make_disk
from tests.support.http_ranges import RangeServer, serve_ranges
from tests.support.nginx import Nginx, require_nginx, start_nginx

pytestmark = pytest.mark.real

FAST = RemoteOptions(timeout=0.5)
SECRET = "S3CR3Tvalue"
USER = "usrQ9z"  # a user name no report contains by chance ("admin" is in a check's rationale)
SIZE = 4 * BLOCK_SIZE
DATA = random.Random(11).randbytes(SIZE)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_fetch, "BACKOFF", (0.01, 0.01, 0.01))


def one_line_error(call: Callable[[], object], within: float = 4.0) -> str:
    """The one-line TargetError ``call`` raises, within ``within`` seconds."""
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        call()
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    assert elapsed < within, (elapsed, message)
    assert "\x1b" not in message and SECRET not in message, message
    return message


# ---- a hostile HTTP server that does what http.server will not ---------------------------------------------
Reply = Callable[[socket.socket, int, tuple[int, int] | None, str, threading.Event], None]


@contextmanager
def raw_server(reply: Reply) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that reads one request per connection and lets ``reply(conn, number,
    range, path, stop)`` write whatever bytes it likes; yields the base URL. Connections are shut down at
    the end, so a client stuck reading one gets EOF."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()
    connections: list[socket.socket] = []
    counter = itertools.count(1)

    def serve(conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            wanted = re.search(rb"(?i)range: bytes=(\d+)-(\d+)", data)
            path = data.split(b" ", 2)[1].decode("latin-1")
            span = (int(wanted[1]), int(wanted[2])) if wanted else None
            reply(conn, next(counter), span, path, stop)
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(timeout=2)


def head(status: str, span: tuple[int, int] | None, extra: str = "", length: int | None = None) -> bytes:
    start, end = span or (0, BLOCK_SIZE - 1)
    end = min(end, SIZE - 1)
    count = end - start + 1 if length is None else length
    lines = [
        f"HTTP/1.1 {status}",
        f"Content-Range: bytes {start}-{end}/{SIZE}",
        'ETag: "v1"',
        "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT",
        "Connection: close",
    ]
    if count >= 0:
        lines.append(f"Content-Length: {count}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def body(span: tuple[int, int] | None) -> bytes:
    start, end = span or (0, BLOCK_SIZE - 1)
    return DATA[start : min(end, SIZE - 1) + 1]


def trickle_body(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    """A 206 that announces a whole block and sends one byte every 0.1 s (slowloris)."""
    conn.sendall(head("206 Partial Content", span))
    for byte in body(span):
        if stop.wait(0.1):
            return
        conn.sendall(bytes([byte]))


def trickle_headers(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    """A status line, then one header line byte by byte, one byte every 0.1 s, never ending."""
    conn.sendall(b"HTTP/1.1 206 Partial Content\r\nX-Slow: ")
    while not stop.wait(0.1):
        conn.sendall(b"a")


def still_running_after(call: Callable[[], object], seconds: float) -> bool:
    """Run ``call`` in a thread: True when it has not returned (nor raised) after ``seconds``."""
    done = threading.Event()

    def run() -> None:
        try:
            call()
        except BaseException:  # only whether it ends matters here
            pass
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return not done.wait(seconds)


@pytest.mark.parametrize("reply", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_server_is_bounded_by_the_timeout(reply: Reply) -> None:
    with raw_server(reply) as base:
        # timeout 0.5 s, 4 attempts: a bounded client gives up after a few seconds at most
        assert not still_running_after(lambda: open_url_source(f"{base}/x.img?sig={SECRET}", FAST), 4.0)


def endless_chunked(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    start, end = span
    conn.sendall(
        f'HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{SIZE}\r\nETag: "v1"\r\n'
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"10000\r\n" + b"\0" * 65536 + b"\r\n"
    while not stop.is_set():
        conn.sendall(chunk)


def longer_body(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    """A 206 without Content-Length whose body runs 1 MiB past the range (closed connection delimits)."""
    conn.sendall(head("206 Partial Content", span, length=-1) + body(span) + b"\0" * (1 << 20))


def short_length(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    conn.sendall(head("206 Partial Content", span, length=10) + body(span)[:10])


def gzip_encoded(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    import gzip

    # 64 MiB of zeros in ~64 KiB: 64 gzip members of 1 MiB each (a valid gzip stream), made in ~10 ms;
    # compressing 64 MiB at once took longer than the client's 0.5 s timeout on a loaded machine
    bomb = gzip.compress(b"\0" * (1 << 20)) * 64
    conn.sendall(head("206 Partial Content", span, "Content-Encoding: gzip\r\n", len(bomb)) + bomb)


def huge_header(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    conn.sendall(head("206 Partial Content", span, "X-Big: " + "a" * 300_000 + "\r\n") + body(span))


def many_headers(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    extra = "".join(f"X-H{i}: v\r\n" for i in range(5000))
    conn.sendall(head("206 Partial Content", span, extra) + body(span))


def absurd_total(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    data = body(span)
    conn.sendall(
        f"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-{BLOCK_SIZE - 1}/{1 << 63}\r\n"
        f'ETag: "v1"\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n'.encode()
        + data
    )


def multipart(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    text = b"--B\r\nContent-Range: bytes 0-9/100\r\n\r\n0123456789\r\n--B--\r\n"
    conn.sendall(
        b"HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n"
        + f'ETag: "v1"\r\nContent-Length: {len(text)}\r\nConnection: close\r\n\r\n'.encode()
        + text
    )


def escaped_etag(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    """ETags holding terminal escapes, a different one on every answer."""
    raw = head("206 Partial Content", span).replace(b'"v1"', f'"v{number}\x1b]0;EVIL\x07\x1b[31m"'.encode())
    conn.sendall(raw + body(span))


def flapping_modified(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    raw = head("206 Partial Content", span).replace(b"2025", b"2025" if number % 2 else b"2024")
    conn.sendall(raw + body(span))


def growing(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    raw = head("206 Partial Content", span).replace(f"/{SIZE}".encode(), f"/{SIZE + number}".encode())
    conn.sendall(raw + body(span))


def range_then_whole(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    if number == 1:
        conn.sendall(head("206 Partial Content", span) + body(span))
        return
    conn.sendall(f'HTTP/1.1 200 OK\r\nETag: "v1"\r\nContent-Length: {1 << 40}\r\n\r\n'.encode())
    while not stop.is_set():
        conn.sendall(b"\0" * 65536)


def wrong_range(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    start, end = span
    if number > 1:
        start, end = start + 512, end + 512  # a neighbouring range of the same length
    conn.sendall(head("206 Partial Content", (start, end)) + DATA[start : end + 1])


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (endless_chunked, "the server sent 262145 bytes for a range of 262144"),
        (longer_body, "the server sent 262145 bytes for a range of 262144"),
        (short_length, "the server sent 10 bytes for a range of 262144"),
        (gzip_encoded, "the server sent the file encoded (Content-Encoding 'gzip')"),
        (huge_header, "the connection broke off"),
        (many_headers, "the connection broke off"),
        (absurd_total, "invalid Content-Range"),
        (multipart, "invalid Content-Range"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:20],
)
def test_a_lying_first_answer_is_one_line(reply: Reply, problem: str) -> None:
    with raw_server(reply) as base:
        message = one_line_error(lambda: open_url_source(f"{base}/x.img?sig={SECRET}", FAST))
    assert message.startswith(f"{base}/x.img?…: "), message
    assert problem in message, message


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (escaped_etag, "the file changed while it was read (ETag"),
        (flapping_modified, "the file changed while it was read (Last-Modified"),
        (growing, "the file changed while it was read (size"),
        (range_then_whole, "the server answered the whole file"),
        (wrong_range, "the server answered bytes 262656-524799 instead"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:20],
)
def test_a_lying_block_answer_is_one_line(reply: Reply, problem: str) -> None:
    with raw_server(reply) as base:
        source = HttpSource.open(f"{base}/x.img?sig={SECRET}", FAST)
        try:
            message = one_line_error(lambda: source.fetch(1))
        finally:
            source.close()
    assert problem in message, message
    assert "EVIL" not in message or "\\x1b" in message  # a server's ETag is shown only escaped


def test_a_block_stream_over_a_lying_server_stays_poisoned() -> None:
    with raw_server(growing) as base:
        source = HttpSource.open(f"{base}/x.img", FAST)
        stream = BlockStream(source)
        try:
            first = one_line_error(lambda: stream.read_at(BLOCK_SIZE, 10))
            again = one_line_error(lambda: stream.read_at(0, 10))
        finally:
            stream.close()
    assert first == again


# ---- redirects ---------------------------------------------------------------------------------------------
def test_redirect_kinds(tmp_path: Path) -> None:
    with serve_ranges(RangeServer(DATA)) as server:
        server.redirects = {
            "/loop": "/loop",
            "/file": "file:///etc/shadow",
            "/gopher": "gopher://127.0.0.1/x",
            "/dataurl": "data:text/plain,hi",
            "/nolocation": "",
            "/badport": "http://127.0.0.1:99999/x",
        }
        base = server.base_url
        assert "more than 5 redirects" in one_line_error(lambda: open_url_source(f"{base}/loop", FAST))
        for path, scheme in (("/file", "file"), ("/gopher", "gopher"), ("/dataurl", "data")):
            message = one_line_error(lambda p=path: open_url_source(f"{base}{p}?sig={SECRET}", FAST))
            assert f"refused a redirect to a {scheme}: URL" in message, message
        assert "without a Location" in one_line_error(lambda: open_url_source(f"{base}/nolocation", FAST))
        assert "invalid URL" in one_line_error(lambda: open_url_source(f"{base}/badport", FAST))


def test_an_http_redirect_to_another_host_is_followed_and_named() -> None:
    """Held as designed (http → http is allowed): the final URL is pinned and shown redacted. An http://
    URL can therefore be bounced to any internal address (169.254.169.254 included); the metadata
    endpoint answers no Range with 206, so it is refused as a server without range support."""
    with serve_ranges(RangeServer(DATA)) as inner, serve_ranges(RangeServer(DATA)) as outer:
        outer.redirects = {"/x.img": f"{inner.base_url.replace('127.0.0.1', 'localhost')}/y.img?sig={SECRET}"}
        source = HttpSource.open(f"{outer.base_url}/x.img", FAST)
        try:
            details = source.details()
            assert source.fetch(1) == DATA[BLOCK_SIZE : 2 * BLOCK_SIZE]
        finally:
            source.close()
    assert details["final_url"].endswith("/y.img?…"), details
    assert SECRET not in repr(details)
    assert inner.count() == 2 and outer.count() == 1


# ---- secrets in every failure kind -------------------------------------------------------------------------
SIGNED = [
    f"sv=2024&sig={SECRET}",
    f"X-Amz-Credential=AKIA&X-Amz-Signature={SECRET}",
    f"X-Goog-Signature={SECRET}",
    f"OSSAccessKeyId=LTAI&Signature={SECRET}",
]


@pytest.mark.parametrize("query", SIGNED)
def test_no_failure_kind_shows_the_signature(query: str) -> None:
    with serve_ranges(RangeServer(b"")) as closed:
        gone = closed.base_url  # a port nobody listens on any more
    with serve_ranges(RangeServer(DATA)) as server:
        server.statuses = {"/403": 403, "/404": 404}
        server.redirects = {"/ftp": f"ftp://{USER}:{SECRET}@h/x?{query}"}
        server.faults = ["hang"] * 4
        base = server.base_url
        with_user = base.replace("://", f"://{USER}:{SECRET}@")
        urls = [
            f"{with_user}/slow?{query}",  # four timeouts (0.5 s each)
            f"{with_user}/403?{query}",
            f"{with_user}/404?{query}",
            f"{with_user}/ftp?{query}",
            f"{base.replace('http:', 'https:')}/tls?{query}",  # TLS to a plain-http server
            f"http://{USER}:{SECRET}@nonexistent.invalid/x?{query}",  # DNS failure
            f"http://{USER}:{SECRET}@127.0.0.1:1/x?{query}",  # connection refused
            f"{gone}/x?{query}",
        ]
        messages = [one_line_error(lambda u=url: open_url_source(u, FAST), within=5) for url in urls]
    for message in messages:
        assert SECRET not in message and USER not in message, message
        assert "?…" in message, message
    assert "the signed URL may have expired" in messages[1]
    assert "TLS" in messages[4] and "resolved" in messages[5] and "cannot connect" in messages[6]


def test_the_progress_line_shows_no_signature(capsys: pytest.CaptureFixture[str]) -> None:
    from imagevet.cli.remote import _Progress

    progress = _Progress()
    with serve_ranges(RangeServer(DATA)) as server:
        source = HttpSource.open(f"{server.base_url}/x.img?sig={SECRET}", FAST)
        stream = BlockStream(source, None, progress)
        try:
            stream.read_at(0, SIZE)
        finally:
            stream.close()
    progress.end()
    err = capsys.readouterr().err
    assert "fetched" in err and "?…" in err and SECRET not in err, err


# ---- the timeout option ------------------------------------------------------------------------------------
def silent(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    stop.wait(30)


def test_the_audit_timeout_option_bounds_a_silent_server() -> None:
    with raw_server(silent) as base:
        try:
            proc = run_imagevet("audit", "--timeout", "0.3", f"{base}/x.img", timeout=4.5)
        except subprocess.TimeoutExpired:
            pytest.fail("imagevet audit --timeout 0.3 was still waiting for a silent server after 4.5 s")
    assert proc.returncode == 2 and "did not answer in time" in proc.stderr


# ---- hostile images over a benign nginx --------------------------------------------------------------------
def qcow2_with_l1(path: Path, l1_entries: int, virtual: int = 1 << 20) -> Path:
    """A qcow2 (512-byte clusters) of a small disk whose L1 table is far larger than the disk needs; the
    file is sparse (its zeros cost no disk)."""
    cluster = 512
    l1_offset = 4 * cluster
    header = struct.pack(
        ">4sIQIIQIIQQIIQ", b"QFI\xfb", 2, 0, 0, 9, virtual, 0, l1_entries, l1_offset, cluster, 1, 0, 0
    )
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(l1_offset + 8 * l1_entries + cluster)
    return path


def vmdk_with_tiny_grain_tables(path: Path, tables: int) -> Path:
    """A monolithicSparse VMDK with one grain per grain table (numGTEsPerGT = 1, VMware writes 512), each
    table in its own sector: the check reads one 4-byte table per sector, across the whole file."""
    directory = 1
    base = directory + (4 * tables + 511) // 512 + 8
    header = struct.pack(
        "<4sIIQQQQIQQQB4sH", b"KDMV", 1, 0, tables * 8, 8, 0, 0, 1, 0, directory, 0, 0, b"\n \r\n", 0
    )
    with path.open("wb") as handle:
        handle.write(header)
        handle.seek(directory * 512)
        handle.write(array("I", range(base, base + tables)).tobytes())
        handle.truncate((base + tables + 1) * 512)
    return path


def raw_with_mbr_past_the_end(path: Path) -> Path:
    mbr = bytearray(512)
    struct.pack_into("<BBBBBBBBII", mbr, 446, 0, 0, 2, 0, 0x83, 0, 0, 0, 2048, 1 << 30)
    mbr[510:512] = b"\x55\xaa"
    with path.open("wb") as handle:
        handle.write(mbr)
        handle.truncate(4 << 20)
    return path


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("redteam-www")
    qcow2_with_l1(folder / "l1.qcow2", 1 << 21)  # a 16 MiB L1 table for a 1 MiB disk
    vmdk_with_tiny_grain_tables(folder / "gt.vmdk", 1 << 15)  # 32,768 tables over 16 MiB
    raw_with_mbr_past_the_end(folder / "mbr.raw")
    if disk_tools_available():
        make_disk(FIXTURES / "rootfs/hardened-debian", folder / "hd.qcow2", size_mib=64)
    return folder


@pytest.fixture(scope="module")
def nginx(www: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    require_nginx()
    with start_nginx(tmp_path_factory.mktemp("redteam-nginx"), www) as server:
        yield server


def hd_url(nginx: Nginx, www: Path) -> str:
    if not (www / "hd.qcow2").exists():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    return f"{nginx.base_url}/hd.qcow2"


def fetched_refusing(nginx: Nginx, url: str) -> tuple[str, int, float]:
    """Open ``url`` as a remote disk (no cache): its one-line refusal, the body bytes nginx sent, and the
    seconds it took."""
    nginx.clear_log()
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        open_remote(url, RemoteOptions(timeout=5.0)).close()
    elapsed = time.monotonic() - started
    return str(caught.value), settled_bytes(nginx), elapsed


def settled_bytes(nginx: Nginx) -> int:
    """The body bytes of nginx's access log once no line has been added for 0.3 s (nginx logs a request
    a moment after the client has its answer)."""
    count = -1
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        entries = nginx.entries()
        if len(entries) == count:
            break
        count = len(entries)
        time.sleep(0.3)
    return sum(entry.bytes for entry in entries)


def test_a_giant_qcow2_l1_table_is_refused_before_it_is_fetched(nginx: Nginx) -> None:
    message, sent, elapsed = fetched_refusing(nginx, f"{nginx.base_url}/l1.qcow2")
    assert "L1" in message, message
    assert sent < 4 << 20, f"{sent} bytes fetched before the refusal ({elapsed:.1f} s)"


def test_tiny_vmdk_grain_tables_are_refused_before_they_are_fetched(nginx: Nginx) -> None:
    message, sent, elapsed = fetched_refusing(nginx, f"{nginx.base_url}/gt.vmdk")
    assert "VMDK" in message, message
    assert sent < 4 << 20, f"{sent} bytes fetched before the refusal ({elapsed:.1f} s)"


def test_an_mbr_partition_past_the_end_is_refused_remotely(nginx: Nginx) -> None:
    message, _, elapsed = fetched_refusing(nginx, f"{nginx.base_url}/mbr.raw")
    assert message == f"{nginx.base_url}/mbr.raw: partition 1 ends beyond the end of the disk (truncated)"
    assert elapsed < 3


def test_probing_block_zero_does_not_read_ahead(nginx: Nginx) -> None:
    message, sent, _ = fetched_refusing(nginx, f"{nginx.base_url}/mbr.raw")
    assert "partition 1 ends beyond the end of the disk" in message
    assert sent <= 3 * BLOCK_SIZE, f"{sent} bytes fetched to refuse an MBR (block 0 and the last block)"


@pytest.mark.parametrize("after", [1, 2, 3])
def test_a_file_changing_at_any_request_fails_the_command(www: Path, nginx: Nginx, after: int) -> None:
    """Every point where the server starts lying ends in exit 2 and one line, never a report."""
    hd_url(nginx, www)
    with serve_ranges(RangeServer((www / "hd.qcow2").read_bytes())) as server:
        server.change_etag_after = after
        env = {**os.environ, "IMAGEVET_BLOCK_CACHE": "off"}
        proc = run_imagevet("packages", "-f", "json", f"{server.base_url}/hd.qcow2", env=env, timeout=20)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "the file changed while it was read" in lines[0], proc.stderr


# ---- secrets in every report format ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("redteam-db") / "advisories.db"
    import_records(database)
    return database


COMMANDS = [
    ("audit", "-f", "json"),
    ("audit", "-f", "sarif"),
    ("audit", "-f", "html"),
    ("audit", "-f", "junit"),
    ("packages", "-f", "cyclonedx"),
    ("packages", "-f", "spdx"),
    ("vuln", "-f", "sarif", "--allow-stale-db"),
    ("vuln", "-f", "html", "--allow-stale-db"),
    ("compliance", "--framework", "cis-l1", "-f", "json"),
    ("harden",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:3]) for c in COMMANDS])
def test_no_report_format_holds_a_signature(
    www: Path, nginx: Nginx, advisory_db: Path, command: tuple[str, ...]
) -> None:
    url = (
        hd_url(nginx, www).replace("://", f"://{USER}:{SECRET}@") + f"?sig={SECRET}&X-Amz-Signature={SECRET}"
    )
    env = {**os.environ, "IMAGEVET_BLOCK_CACHE": "off", "IMAGEVET_DB": str(advisory_db)}
    name, *options = command
    spec = f"disk:{url}" if name == "packages" else url
    proc = run_imagevet(name, *options, spec, env=env, timeout=30)
    assert proc.returncode in (0, 1), proc.stderr[-1000:]
    assert proc.stdout
    for text in (proc.stdout, proc.stderr):
        assert SECRET not in text and USER not in text


# ---- the block cache ---------------------------------------------------------------------------------------
def cache_at(root: Path, identity: str = "http x", max_bytes: int = 1 << 30) -> DiskBlockCache | None:
    return DiskBlockCache.open(root, identity, max_bytes)


def test_cache_roots_that_are_not_private_directories_are_not_used(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    assert cache_at(tmp_path / "link") is None
    (tmp_path / "file").write_bytes(b"")
    assert cache_at(tmp_path / "file") is None
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert cache_at(shared) is None
    group = tmp_path / "group"
    group.mkdir()
    group.chmod(0o770)
    assert cache_at(group) is None
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 12345, 12345)
        assert cache_at(theirs) is None
    assert cache_at(tmp_path / "new" / "deeper") is not None
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "deeper").st_mode) == 0o700


def test_cache_entries_that_are_links_fifos_or_devices_are_never_read(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    assert cache is not None
    cache.folder.mkdir(parents=True)
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$hash:19000::::::\n")
    digest = __import__("hashlib").sha256(secret.read_bytes()).hexdigest()
    (cache.folder / f"0-{digest}").symlink_to(secret)
    os.mkfifo(cache.folder / f"1-{'0' * 64}")
    if os.geteuid() == 0:
        os.mknod(cache.folder / f"2-{'1' * 64}", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    started = time.monotonic()
    assert cache.get(0) is None  # a link, even to bytes of the right digest
    assert cache.get(1) is None  # a FIFO is not waited on
    assert cache.get(2) is None  # /dev/zero: 64 MiB read at most, and no digest matches
    assert time.monotonic() - started < 2
    assert secret.read_bytes().startswith(b"root:")


def test_a_planted_block_under_the_right_name_is_served(tmp_path: Path) -> None:
    """Held as documented ("the cache is as trusted as the user's own files"): a block is checked only
    against the digest in its own name, so whoever can write the private cache can plant any bytes."""
    cache = cache_at(tmp_path / "cache")
    assert cache is not None
    planted = b"EVIL" * 128
    cache.folder.mkdir(parents=True)
    (cache.folder / f"0-{__import__('hashlib').sha256(planted).hexdigest()}").write_bytes(planted)
    assert cache.get(0) == planted


def test_prune_never_leaves_the_cache_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"x" * 4096)
    root = tmp_path / "cache"
    cache = cache_at(root, max_bytes=0)
    assert cache is not None
    cache.put(0, b"block")
    (root / "escape").symlink_to(outside)
    (cache.folder / "link").symlink_to(outside / "keep.txt")
    cache.prune()
    assert (outside / "keep.txt").read_bytes() == b"x" * 4096
    assert not any(cache.folder.glob("0-*"))


def test_prune_deletes_only_its_own_blocks(www: Path, nginx: Nginx, tmp_path: Path) -> None:
    url = hd_url(nginx, www)
    root = tmp_path / "vms"
    (root / "debian").mkdir(parents=True)
    root.chmod(0o700)
    with (root / "debian" / "disk.img").open("wb") as handle:
        handle.truncate(5 << 30)  # a user's VM disk (sparse here), older than any cached block
    os.utime(root / "debian" / "disk.img", (1_000_000_000, 1_000_000_000))
    env = {**os.environ, "IMAGEVET_BLOCK_CACHE": str(root)}
    proc = run_imagevet("packages", url, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert (root / "debian" / "disk.img").exists(), "imagevet deleted the user's file"


def by_query(conn: socket.socket, number: int, span: Any, path: str, stop: threading.Event) -> None:
    """A download endpoint that picks the object by its query (?file=a, ?file=b): two files of the same
    size and modification time, so the same nginx-style ETag ("mtime-size") and Last-Modified."""
    data = DATA if "file=a" in path else bytes(reversed(DATA))
    start, end = span
    end = min(end, SIZE - 1)
    conn.sendall(head("206 Partial Content", (start, end)) + data[start : end + 1])


def test_objects_selected_by_query_never_share_cached_blocks(tmp_path: Path) -> None:
    with raw_server(by_query) as base:
        read = {}
        for name in ("a", "b"):
            source = HttpSource.open(f"{base}/download?file={name}", FAST)
            key = source.cache_key()
            assert key is not None
            stream = BlockStream(source, DiskBlockCache.open(tmp_path / "cache", key, 1 << 30))
            try:
                read[name] = stream.read_at(0, SIZE)
            finally:
                stream.close()
    assert read["a"] == DATA
    assert read["b"] == bytes(reversed(DATA)), "the audit of ?file=b read the cached blocks of ?file=a"


def test_a_full_cache_disk_only_costs_fetches(tmp_path: Path) -> None:
    """A cache that cannot be written (simulated: its folder is a file) never fails the read."""
    with serve_ranges(RangeServer(DATA)) as server:
        source = HttpSource.open(f"{server.base_url}/x.img", FAST)
        key = source.cache_key()
        assert key is not None
        store = DiskBlockCache.open(tmp_path / "cache", key, 1 << 30)
        assert store is not None
        store.folder.write_bytes(b"")  # mkdir and mkstemp fail like ENOSPC would
        stream = BlockStream(source, store)
        try:
            assert stream.read_at(0, SIZE) == DATA
        finally:
            stream.close()


# ---- ami: --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reference",
    [
        "ami-\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # Arabic-Indic digits
        "ami-" + "a" * 17 + "\n",
        "ami-" + "a" * 17 + "\x1b[31m",
        "ami-" + "f" * 5000,
        "ami-ABCDEF12",
        "ami-../../etc",
    ],
    ids=["unicode-digits", "newline", "escape", "long", "upper", "path"],
)
def test_hostile_ami_ids_are_one_line_without_echo(reference: str) -> None:
    proc = run_imagevet("audit", f"ami:{reference}", "--region", "us-east-1", timeout=20)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines == ["imagevet: error: ami: target is not an AMI id (ami- and 8 or 17 lowercase hexadecimal "
                     "digits)"], proc.stderr  # fmt: skip


def test_ami_details_drop_terminal_escapes() -> None:
    from imagevet.target.ebs import image_details

    image = {
        "Name": "ubuntu\x1b]0;EVIL\x07\x1b[2J\u202e\r\nfake: line",
        "Description": "d\x1b[31m" + "x" * 5000,
        "OwnerId": "099720109477\x1b",
        "CreationDate": "2025\n",
        "RootDeviceName": "/dev/sda1\x00",
    }
    details = image_details("ami-12345678", image, {"SnapshotId": "snap-12345678"}, "us-east-1")
    for value in details.values():
        assert value.isprintable() and "\x1b" not in value, value
    assert details["name"] == "ubuntu]0;EVIL[2Jfake: line"
    assert len(details["description"]) == 512


def test_an_image_cannot_write_terminal_escapes_into_the_table(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", root, symlinks=True)
    release = root / "etc/os-release"
    if release.is_symlink():
        release = root / "usr/lib/os-release"
    text = re.sub(r"(?m)^PRETTY_NAME=.*$", 'PRETTY_NAME="Debian \x1b]0;EVIL\x07\x1b[2J"', release.read_text())
    release.write_text(text)
    proc = run_imagevet("audit", str(root), timeout=30)
    assert "Debian" in proc.stdout
    assert "\x1b" not in proc.stdout, "a terminal escape from the image reached stdout"
