"""A real HTTP server on 127.0.0.1 that serves recorded responses, and can misbehave on request."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@contextmanager
def serve(directory: Path, faults: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``directory`` at the yielded base URL (``…/api``). ``faults`` maps a path below it to a
    misbehaviour: ``drop`` (close without answering), ``truncate`` (announce the full length, send half,
    close), ``corrupt`` (invalid JSON), ``500``."""
    faults = faults or {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = urllib.parse.unquote(self.path.split("?", 1)[0]).removeprefix("/api/")
            requests.append(name)
            fault = faults.get(name)
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault == "500":
                self.send_error(500)
                return
            path = directory / name
            if ".." in Path(name).parts or not path.is_file():
                self.send_error(404)
                return
            body = b'[{"cycle": "24.04", "eol": ' if fault == "corrupt" else path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if fault == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
