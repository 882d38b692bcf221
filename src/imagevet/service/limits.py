"""Guards in front of every route, so hostile requests get a clear 4xx instead of reaching the database:

- a bound on request bodies: a client (or a stolen token) must not make the service hold an arbitrarily
  large document in memory. Bodies over the limit get 413, whether the client declared their length or
  streamed them in chunks. Bodies outside the API (the sign-in form) are bounded much lower;
- no NUL characters in the path or the query (400): PostgreSQL refuses them in text;
- authentication first: an API request's bearer token is checked before its body is read, so a client
  without a valid token never makes the service read, parse or validate anything it sent;
- then the body, if any, is parsed once, within bounds (service/payload.py: depth, NUL, lone
  surrogates, non-finite or huge numbers); the routes take the parsed value from the request's state.

Pure ASGI, so it sits in front of FastAPI's own body handling."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from imagevet.service.auth import AuthFailure
from imagevet.service.payload import PayloadError, parse

MAX_BODY = int(float(os.environ.get("IMAGEVET_MAX_BODY_MB", "64")) * 1024 * 1024)
MAX_FORM = 16 * 1024  # the sign-in form: a token and a nonce
API = "/api/"
SCOPE_KEY = "imagevet_scope"  # request.state: the authenticated token's scope
JSON_KEY = "imagevet_json"  # request.state: the parsed body

Message = dict[str, Any]
Authenticate = Callable[[str, str], str]  # (client address, Authorization header) -> scope


class RequestGuard:
    def __init__(self, app: Any, authenticate: Authenticate, max_bytes: int = MAX_BODY) -> None:
        self.app, self.authenticate, self.max_bytes = app, authenticate, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        api = path.startswith(API)
        limit = self.max_bytes if api else min(self.max_bytes, MAX_FORM)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _error(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await _error(send, 413, self.too_large(limit))
                return
        if has_nul(scope):
            await _error(send, 400, "NUL characters are not accepted")
            return
        state = scope.setdefault("state", {})
        if api:
            client = scope["client"][0] if scope.get("client") else "?"
            authorization = headers.get(b"authorization", b"").decode("latin-1")
            try:
                state[SCOPE_KEY] = await run_in_threadpool(self.authenticate, client, authorization)
            except AuthFailure as exc:
                extra = [(b"www-authenticate", b"Bearer")] if exc.status == 401 else []
                await _error(send, exc.status, exc.message, extra)
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
            if size > limit:
                await _error(send, 413, self.too_large(limit))
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        whole_body = b"".join(chunks)
        if api and whole_body:
            try:
                state[JSON_KEY] = await run_in_threadpool(parse, whole_body)
            except PayloadError as exc:
                await _error(send, exc.status, str(exc))
                return
        whole: Message | None = {"type": "http.request", "body": whole_body, "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is not None:
                message, whole = whole, None
                return message
            result: Message = await receive()
            return result

        await self.app(scope, replay, send)

    def too_large(self, limit: int) -> str:
        if limit < self.max_bytes:
            return f"request body over {limit // 1024} KB"
        return f"request body over {limit // (1024 * 1024)} MB (IMAGEVET_MAX_BODY_MB)"


def has_nul(scope: dict[str, Any]) -> bool:
    """A NUL in the decoded path or the query string (raw or %00)."""
    query = bytes(scope.get("query_string") or b"").lower()
    return "\x00" in str(scope.get("path", "")) or b"\x00" in query or b"%00" in query


async def _error(send: Any, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})
