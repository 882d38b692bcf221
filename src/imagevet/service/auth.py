"""API tokens: random, shown once, stored as SHA-256 digests, each with one scope. `admin` includes
`write`, which includes `read`.

Failed authentication is rate-limited per client address. The address is the TCP peer's: uvicorn only
replaces it with an X-Forwarded-For address when `serve --forwarded-allow-ips` names the proxy, so a
client cannot pick a fresh address for each guess.

Dashboard sign-in: the token is checked once, then the browser holds a session, a random secret of its
own (stored as a digest, ending when it expires or the token is revoked), never the API token."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from imagevet.service.db import ApiToken, WebSession, utcnow
from imagevet.service.vocabulary import SCOPES

RANK = {scope: rank for rank, scope in enumerate(SCOPES)}
PREFIX = "ivt_"
SESSION_HOURS = 12
MAX_TOKEN = 256  # longer "tokens" are not looked up (ours are 47 characters)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def allows(granted: str, needed: str) -> bool:
    return RANK.get(granted, -1) >= RANK[needed]


class FailureLimiter:
    """At most ``limit`` failed authentications per ``window`` seconds per client; beyond that, 429 until
    the window has passed. In memory: a restart forgets, which only ever lets a client try sooner. At most
    ``clients`` addresses are remembered: the quietest are forgotten first."""

    def __init__(self, limit: int = 10, window: float = 60.0, clients: int = 10_000) -> None:
        self.limit, self.window, self.clients = limit, window, clients
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self.failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        with self.lock:
            now = time.monotonic()
            blocked = len(self._recent(client, now)) >= self.limit
            if not self.failures[client]:
                del self.failures[client]
            return blocked

    def failed(self, client: str) -> None:
        with self.lock:
            now = time.monotonic()
            self._recent(client, now).append(now)
            if len(self.failures) > self.clients:
                self._forget(now)

    def _forget(self, now: float) -> None:
        for client in [c for c, times in self.failures.items() if not times or now - times[-1] > self.window]:
            del self.failures[client]
        while len(self.failures) > self.clients:  # still full: the least recently failing go first
            del self.failures[min(self.failures, key=lambda c: self.failures[c][-1])]


class AuthFailure(Exception):
    """Authentication refused: the HTTP status and the message to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Gate:
    """Who is asking, from a bearer token or a dashboard session; failures counted per client."""

    def __init__(self, make_session: sessionmaker[Session], limiter: FailureLimiter | None = None) -> None:
        self.make_session = make_session
        self.limiter = limiter or FailureLimiter()

    def _check_blocked(self, client: str) -> None:
        if self.limiter.blocked(client):
            raise AuthFailure(429, "too many failed authentications; try again later")

    def token(self, client: str, token: str) -> ApiToken:
        """The token's row; AuthFailure 401 (counted) or 429 while the client is locked out."""
        self._check_blocked(client)
        row = None
        if token and len(token) <= MAX_TOKEN:
            with self.make_session() as db:
                row = db.scalars(select(ApiToken).where(ApiToken.digest == digest(token))).first()
        if row is None:
            self.limiter.failed(client)
            raise AuthFailure(401, "a valid bearer token is required")
        return row

    def bearer(self, client: str, authorization: str) -> str:
        """The scope of an ``Authorization: Bearer TOKEN`` header."""
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        return self.token(client, token).scope

    def open_session(self, token: ApiToken, now: dt.datetime | None = None) -> str:
        """A new dashboard session for ``token``: the cookie's value (only its digest is stored)."""
        now = now or utcnow()
        secret = secrets.token_urlsafe(32)
        with self.make_session() as db:
            db.execute(delete(WebSession).where(WebSession.expires_at < now))
            db.add(WebSession(digest=digest(secret), token_id=token.id, created_at=now,
                              expires_at=now + dt.timedelta(hours=SESSION_HOURS)))  # fmt: skip
            db.commit()
        return secret

    def session_scope(self, secret: str, now: dt.datetime | None = None) -> str | None:
        """The scope of the token behind a live session cookie, or None. Session secrets are 256 random
        bits, so a wrong one is not counted as a failed authentication (an expired cookie is not an
        attack); it just leads to the sign-in page."""
        if not secret or len(secret) > MAX_TOKEN:
            return None
        with self.make_session() as db:
            scope: str | None = db.scalar(
                select(ApiToken.scope)
                .join(WebSession, WebSession.token_id == ApiToken.id)
                .where(WebSession.digest == digest(secret), WebSession.expires_at > (now or utcnow()))
            )
        return scope

    def close_session(self, secret: str) -> None:
        if secret and len(secret) <= MAX_TOKEN:
            with self.make_session() as db:
                db.execute(delete(WebSession).where(WebSession.digest == digest(secret)))
                db.commit()


def new_nonce() -> str:
    """The sign-in form's one-time value, also set as a cookie (double submit)."""
    return secrets.token_urlsafe(32)


def same_site_post(headers: Mapping[str, str], cookie: str, field: str) -> bool:
    """Whether a sign-in POST comes from this site's own form: the form's value matches the cookie set
    with it (a SameSite=Strict cookie, which a cross-site post does not carry), and neither the
    browser's Sec-Fetch-Site nor the Origin header names another site."""
    if not cookie or not field or not hmac.compare_digest(cookie.encode(), field.encode()):
        return False
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    try:
        netloc = urllib.parse.urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc == headers.get("host", "")
