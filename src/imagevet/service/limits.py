"""Guards in front of every route, so hostile requests get a clear 4xx instead of reaching the database:

- a bound on request bodies: a client (or a stolen token) must not make the service hold an arbitrarily
  large document in memory. Bodies over the limit get 413, whether the client declared their length or
  streamed them in chunks;
- no NUL characters, in the path, the query or a JSON body (400): PostgreSQL refuses them in text, and
  no imagevet document has one.

Pure ASGI, so it sits in front of FastAPI's own body handling."""

from __future__ import annotations

import json
import os
from typing import Any

MAX_BODY = int(float(os.environ.get("IMAGEVET_MAX_BODY_MB", "64")) * 1024 * 1024)

Message = dict[str, Any]


class RequestGuard:
    def __init__(self, app: Any, max_bytes: int = MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _error(send, 400, "Content-Length is not a number")
                return
            if int(declared) > self.max_bytes:
                await _error(send, 413, self.too_large())
                return
        # Read the body up to the limit, then hand it to the app as one message (FastAPI reads whole
        # bodies anyway, so this costs no extra memory beyond the bound).
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await _error(send, 413, self.too_large())
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        if has_nul(scope, b"".join(chunks)):
            await _error(send, 400, "NUL characters are not accepted")
            return
        whole: Message | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is not None:
                message, whole = whole, None
                return message
            result: Message = await receive()
            return result

        await self.app(scope, replay, send)

    def too_large(self) -> str:
        return f"request body over {self.max_bytes // (1024 * 1024)} MB (IMAGEVET_MAX_BODY_MB)"


def has_nul(scope: dict[str, Any], body: bytes) -> bool:
    """A NUL in the decoded path, the query string (raw or %00) or anywhere in the body (raw, or as a
    JSON \\u0000 escape, confirmed by parsing so an escaped backslash before "u0000" is not taken for
    one)."""
    query = bytes(scope.get("query_string") or b"").lower()
    if "\x00" in str(scope.get("path", "")) or b"\x00" in query or b"%00" in query:
        return True
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _strings_have_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the route says so


def _strings_have_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_strings_have_nul(k) or _strings_have_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_strings_have_nul(v) for v in value)
    return False


async def _error(send: Any, status: int, text: str) -> None:
    body = json.dumps({"error": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
