"""An HTTP range server that misbehaves on request, for what nginx will not do (tests/target/test_http.py).

It serves ``data`` at every path with single-range support, and can, per request or for good: answer a
transient status (503, 429), reset the connection mid-body, send a short body, change its ETag after N
requests, ignore Range and stream a huge 200 body (counting the bytes it managed to send), omit its
validators, redirect, answer a fixed status, or send a chosen Content-Range. It records every request's
path and headers. ``tls`` (a certificate and key) serves https.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class RangeServer:
    """What to serve and how to misbehave (attributes may be changed while it runs)."""

    data: bytes
    etag: str | None = '"v1"'
    last_modified: str | None = "Wed, 01 Jan 2025 00:00:00 GMT"
    ranges: bool = True
    faults: list[str] = field(default_factory=list)  # one per request, in order: 503 429 reset short hang ok
    change_etag_after: int | None = None  # the ETag becomes '"v2"' after this many requests
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location
    statuses: dict[str, int] = field(default_factory=dict)  # path -> a status answered with no body
    content_range: str | None = None  # sent instead of the true Content-Range
    whole_body: int | None = None  # with ranges=False: a 200 body of this many bytes, streamed
    retry_after: str | None = None
    encoding: str | None = None  # a Content-Encoding header
    delay: float = 0.0  # seconds before each answer (a far-away server, for measurements)
    seen: list[Seen] = field(default_factory=list)
    bytes_sent: int = 0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.seen)


def _handler(state: RangeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with state.lock:
                state.seen.append(Seen(self.path, {k.title(): v for k, v in self.headers.items()}))
                number = len(state.seen)
                fault = state.faults.pop(0) if state.faults else "ok"
            etag = state.etag
            if etag is not None and state.change_etag_after is not None and number > state.change_etag_after:
                etag = '"v2"'
            if fault in ("503", "429", "500"):
                headers = {"Retry-After": state.retry_after} if state.retry_after else {}
                return self._reply(int(fault), headers, b"busy")
            if fault == "hang":
                time.sleep(5)
            if state.delay:
                time.sleep(state.delay)
            if path in state.redirects:
                return self._reply(302, {"Location": state.redirects[path]}, b"")
            if path in state.statuses:
                return self._reply(state.statuses[path], {}, b"denied: secret-body-text")
            headers = {}
            if etag is not None:
                headers["ETag"] = etag
            if state.last_modified is not None:
                headers["Last-Modified"] = state.last_modified
            if state.encoding:
                headers["Content-Encoding"] = state.encoding
            wanted = _RANGE.fullmatch(self.headers.get("Range", ""))
            if not state.ranges or wanted is None:
                return self._whole(headers, fault)
            if state.etag is not None and self.headers.get("If-Match") not in (None, etag):
                return self._reply(412, headers, b"")
            start, end = int(wanted[1]), min(int(wanted[2]), len(state.data) - 1)
            body = state.data[start : end + 1]
            true_range = f"bytes {start}-{end}/{len(state.data)}"
            headers["Content-Range"] = true_range if state.content_range is None else state.content_range
            if fault == "short":
                body = body[: len(body) // 2]
            if fault == "reset":
                headers["Content-Length"] = str(len(body))
                self._head(206, headers)
                self._send(body[: len(body) // 2])
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            return self._reply(206, headers, body)

        def _whole(self, headers: dict[str, str], fault: str) -> None:
            size = state.whole_body if state.whole_body is not None else len(state.data)
            headers["Content-Length"] = str(size)
            self._head(200, headers)
            if fault == "short":  # the announced length, half of it sent, the connection closed
                self._send(state.data[: len(state.data) // 2])
                self.close_connection = True
                return
            if state.whole_body is None:
                self._send(state.data)
                return
            chunk = b"\0" * 65536
            try:
                for _ in range(size // len(chunk)):
                    self._send(chunk)
            except OSError:
                self.close_connection = True

        def _head(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self._head(status, {**headers, "Content-Length": str(len(body))})
            self._send(body)

        def _send(self, body: bytes) -> None:
            self.wfile.write(body)
            self.wfile.flush()
            with state.lock:
                state.bytes_sent += len(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_ranges(state: RangeServer, tls: tuple[Path, Path] | None = None) -> Iterator[RangeServer]:
    """``state`` served on a free port of 127.0.0.1 (``state.base_url`` is set) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # clients hang up
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    state.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
