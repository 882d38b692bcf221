"""Over real HTTP(S), against `imagevet serve` (issue 15, item 10):

- failed authentications are limited per real peer: X-Forwarded-For is ignored unless
  `--forwarded-allow-ips` names the proxy, so a client cannot rotate it to guess on;
- the sign-in form refuses cross-site posts (no form nonce, a nonce that does not match the cookie served
  with the form, Sec-Fetch-Site or Origin of another site), and signs nobody in when it does;
- the session cookie never holds the API token (only a digest of a random secret is stored), is HttpOnly
  and SameSite=Strict, is `Secure` under TLS, and stops working when the token is revoked or on sign-out."""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from imagevet.service.db import WebSession, make_engine, sessions
from tests.service.http import Answer, call
from tests.service.test_serve_cli import self_signed
from tests.support.cli import run_imagevet
from tests.support.serve import server


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    token = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env).stdout.strip()
    return url, env, token


def cookies(answer: Answer) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header, attributes included)."""
    return {h.split("=", 1)[0]: h for h in answer.headers.get_all("set-cookie") or []}


def value(header: str) -> str:
    return header.split("=", 1)[1].split(";", 1)[0].strip('"')


def form(base: str, context: ssl.SSLContext | None = None) -> tuple[str, str]:
    """GET /login: the form's nonce and the nonce cookie."""
    page = call(base, "GET", "/login", context=context)
    assert page.status == 200
    found = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1), value(cookies(page)["imagevet_signin"])


def sign_in(
    base: str, token: str, nonce: str, cookie: str | None, headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Answer:  # fmt: skip
    body = urllib.parse.urlencode({"token": token, "nonce": nonce}).encode()
    extra = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if cookie is not None:
        extra["Cookie"] = f"imagevet_signin={cookie}"
    return call(base, "POST", "/login", raw=body, headers=extra, context=context)


def session_rows(url: str) -> list[str]:
    with sessions(make_engine(url))() as db:
        return list(db.scalars(select(WebSession.digest)))


def page(base: str, path: str, session: str) -> Answer:
    return call(base, "GET", path, headers={"Cookie": f"imagevet_session={session}"})


def signed_out(answer: Answer) -> bool:
    return answer.status == 303 and answer.headers["location"] == "/login"


def test_failed_authentications_are_limited_per_real_peer(setup: tuple[str, dict[str, str], str]) -> None:
    url, env, token = setup
    with server(url, env) as base:
        for n in range(10):  # a fresh "address" for each guess: still one client, 127.0.0.1
            headers = {"X-Forwarded-For": f"198.51.100.{n}"}
            assert call(base, "GET", "/api/v1/images", "ivt_guess", headers=headers).status == 401
        blocked = call(base, "GET", "/api/v1/images", token, headers={"X-Forwarded-For": "198.51.100.99"})
        assert blocked.status == 429, blocked.text
        assert call(base, "GET", "/api/v1/images", token).status == 429


def test_forwarded_addresses_count_when_the_proxy_is_trusted(setup: tuple[str, dict[str, str], str]) -> None:
    url, env, token = setup
    with server(url, env, ("--forwarded-allow-ips", "127.0.0.1")) as base:
        guesser = {"X-Forwarded-For": "198.51.100.7"}
        for _ in range(10):
            assert call(base, "GET", "/api/v1/images", "ivt_guess", headers=guesser).status == 401
        assert call(base, "GET", "/api/v1/images", token, headers=guesser).status == 429
        other = {"X-Forwarded-For": "198.51.100.8"}  # another client behind the same proxy
        assert call(base, "GET", "/api/v1/images", token, headers=other).status == 200


def test_the_sign_in_form_refuses_cross_site_posts(setup: tuple[str, dict[str, str], str]) -> None:
    url, env, token = setup
    with server(url, env) as base:
        nonce, cookie = form(base)
        other_nonce, _ = form(base)
        attempts = {
            "no nonce cookie (what a cross-site post carries)": sign_in(base, token, nonce, None),
            "no nonce in the form": sign_in(base, token, "", cookie),
            "a nonce of another form": sign_in(base, token, other_nonce, cookie),
            "Sec-Fetch-Site: cross-site": sign_in(
                base, token, nonce, cookie, {"Sec-Fetch-Site": "cross-site"}
            ),
            "Sec-Fetch-Site: same-site": sign_in(base, token, nonce, cookie, {"Sec-Fetch-Site": "same-site"}),
            "Origin of another site": sign_in(base, token, nonce, cookie, {"Origin": "http://evil.example"}),
            "Origin null (a sandboxed page)": sign_in(base, token, nonce, cookie, {"Origin": "null"}),
        }
        for what, answer in attempts.items():
            assert answer.status == 403, (what, answer.status)
            assert "imagevet_session" not in cookies(answer), what
            assert "it must come from this service" in answer.text, what
        assert session_rows(url) == []
        same = sign_in(base, token, nonce, cookie, {"Origin": base, "Sec-Fetch-Site": "same-origin"})
        assert same.status == 303 and "imagevet_session" in cookies(same)
        assert len(session_rows(url)) == 1


def test_the_session_cookie_is_not_the_token_and_ends_with_it(setup: tuple[str, dict[str, str], str]) -> None:
    url, env, token = setup
    with server(url, env) as base:
        assert signed_out(call(base, "GET", "/"))
        nonce, cookie = form(base)
        wrong = sign_in(base, "ivt_wrong", nonce, cookie)
        assert wrong.status == 401 and "not valid" in wrong.text and "imagevet_session" not in cookies(wrong)
        signed = sign_in(base, token, nonce, cookie)
        assert signed.status == 303
        header = cookies(signed)["imagevet_session"]
        session = value(header)
        assert token not in header and session != token and len(session) >= 40
        assert "HttpOnly" in header and "SameSite=strict" in header and "Secure" not in header  # plain HTTP
        assert "imagevet_signin=" in cookies(signed)["imagevet_signin"]  # the nonce cookie is cleared
        rows = session_rows(url)
        assert len(rows) == 1 and session not in rows[0] and token not in rows[0]
        database = (Path(url.removeprefix("sqlite:///"))).read_bytes()
        assert token.encode() not in database and session.encode() not in database
        overview = page(base, "/", session)
        assert overview.status == 200 and 'id="card-images"' in overview.text
        assert signed_out(page(base, "/", token))  # the token itself is not a session
        # Revoking the token ends its sessions, on every server process sharing the database.
        listed = run_imagevet("token", "list", "-f", "json", "--database-url", url, env=env)
        token_id = json.loads(listed.stdout)["tokens"][0]["id"]
        revoked = run_imagevet("token", "revoke", str(token_id), "--database-url", url, env=env)
        assert revoked.returncode == 0, revoked.stderr
        assert signed_out(page(base, "/", session)) and session_rows(url) == []


def test_sign_out_ends_the_session(setup: tuple[str, dict[str, str], str]) -> None:
    url, env, token = setup
    with server(url, env) as base:
        nonce, cookie = form(base)
        session = value(cookies(sign_in(base, token, nonce, cookie))["imagevet_session"])
        assert 'id="sign-out"' in page(base, "/", session).text
        out = call(base, "POST", "/logout", raw=b"", headers={"Cookie": f"imagevet_session={session}"})
        assert out.status in (200, 303) and session_rows(url) == []
        assert signed_out(page(base, "/", session))


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    yield self_signed(tmp_path, "service")


def test_cookies_are_secure_under_tls(setup: tuple[str, dict[str, str], str], tls: tuple[Path, Path]) -> None:
    url, env, token = setup
    cert, key = tls
    context = ssl.create_default_context(cafile=str(cert))
    with server(url, env, ("--tls-cert", str(cert), "--tls-key", str(key)), context) as base:
        page_ = call(base, "GET", "/login", context=context)
        assert "Secure" in cookies(page_)["imagevet_signin"]
        nonce, cookie = form(base, context)
        signed = sign_in(base, token, nonce, cookie, context=context)
        assert signed.status == 303, signed.text
        header = cookies(signed)["imagevet_session"]
        assert "Secure" in header and "HttpOnly" in header and token not in header
