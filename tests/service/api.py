"""The in-process API for the service tests: `create_app` over a migrated database (SQLite or PostgreSQL)
with a token of each scope, under FastAPI's TestClient; the CLI's documents the tests push; signing in
through the dashboard's form as a browser does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from imagevet.service.app import create_app
from imagevet.service.auth import digest, new_token
from imagevet.service.db import ApiToken, make_engine, sessions
from imagevet.service.migrate import upgrade
from imagevet.target.ssh import SshOptions
from imagevet.vuln.db import thread_lookup

PACKAGES = {
    "schema": "imagevet/packages/v1",
    "os": {
        "id": "debian",
        "version_id": "12",
        "name": "Debian GNU/Linux",
        "pretty_name": "Debian 12",
        "family": "debian",
    },
    "packages": [
        {
            "name": "openssh-client",
            "version": "1:9.2p1-2+deb12u4",
            "source": "openssh",
            "source_version": "1:9.2p1-2+deb12u4",
            "arch": "amd64",
            "type": "deb",
            "purl": "pkg:deb/debian/openssh-client",
        },
        {
            "name": "bash",
            "version": "5.2.15-2+b7",
            "source": "bash",
            "source_version": "5.2.15-2",
            "arch": "amd64",
            "type": "deb",
            "purl": "pkg:deb/debian/bash",
        },
    ],
}
VULN = {
    "schema": "imagevet/vuln/v1",
    "findings": [
        {
            "id": "DSA-9002-1",
            "aliases": ["CVE-2026-2222"],
            "package": "bash",
            "installed": "5.2.15-2+b7",
            "fixed": "5.2.15-2+b8",
            "severity": "high",
            "waiver": None,
        },
        {
            "id": "DSA-7777-1",
            "aliases": [],
            "package": "bash",
            "installed": "5.2.15-2+b7",
            "fixed": None,
            "severity": "low",
            "waiver": {"reason": "accepted"},
        },
    ],
}
AUDIT = {
    "schema": "imagevet/audit/v1",
    "summary": {"pass": 10, "fail": 2, "skip": 1, "error": 0, "waived": 0},
}


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def call(self, method: str, path: str, scope: str = "write", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[scope]}"} if scope else {}
        return self.client.request(method, path, headers=headers, **kwargs)


def make_api(
    url: str, advisories: Path | None = None, raise_errors: bool = True, ssh: SshOptions | None = None
) -> Api:
    upgrade(url)
    make = sessions(make_engine(url))
    tokens = {scope: new_token() for scope in ("read", "write", "admin")}
    with make() as session:
        session.add_all(ApiToken(name=scope, scope=scope, digest=digest(t)) for scope, t in tokens.items())
        session.commit()
    app = create_app(
        make,
        lambda: thread_lookup(advisories) if advisories else None,
        today=lambda: dt.date(2026, 11, 28),
        ssh=ssh,
    )
    return Api(TestClient(app, raise_server_exceptions=raise_errors), tokens)


def sign_in(client: TestClient, token: str) -> None:
    """Sign in through the form, as a browser does: the page's one-time value, then the POST."""
    form = client.get("/login")
    nonce = form.text.split('name="nonce" value="', 1)[1].split('"', 1)[0]
    signed = client.post("/login", data={"token": token, "nonce": nonce}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
