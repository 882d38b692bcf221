"""The inventory API on SQLite and on PostgreSQL: migrations, tokens and scopes, images, reports and their
history, instances, findings and exposure, rescans against a real advisory database, concurrent writers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from imagevet.service.app import create_app
from imagevet.service.auth import digest, new_token
from imagevet.service.db import ApiToken, Base, Finding, make_engine, sessions
from imagevet.service.migrate import upgrade
from imagevet.target.ssh import SshOptions
from imagevet.vuln.db import thread_lookup
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from tests.conftest import FIXTURES
from tests.support.advisories import fresh_stamp

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


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    yield make_api(database_url)


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_tokens_scopes_and_rate_limit(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    assert api.call("GET", "/api/v1/images", scope="").status_code == 401
    assert api.client.get("/api/v1/images", headers={"Authorization": "Bearer ivt_wrong"}).status_code == 401
    assert api.call("GET", "/api/v1/images", scope="read").status_code == 200
    denied = api.call("POST", "/api/v1/images", scope="read", json={"cloud": "aws", "image_id": "ami-1"})
    assert denied.status_code == 403 and "does not allow write" in denied.json()["error"]
    for _ in range(12):
        last = api.client.get("/api/v1/images", headers={"Authorization": "Bearer nope"})
    assert last.status_code == 429
    assert api.call("GET", "/api/v1/images", scope="read").status_code == 429  # per client: wait it out
    schema = api.client.get("/openapi.json").json()
    assert "/api/v1/exposure/{vuln_id}" in schema["paths"]


def test_images_lifecycle(api: Api) -> None:
    base = api.call(
        "POST",
        "/api/v1/images",
        json={"cloud": "aws", "image_id": "ami-base", "release": "debian-12", "layer": "base"},
    )
    assert base.status_code == 201
    app = api.call(
        "POST",
        "/api/v1/images",
        json={"cloud": "aws", "image_id": "ami-app", "layer": "app", "parent": "ami-base"},
    )
    assert app.json()["parent_id"] == base.json()["id"]
    assert (
        api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-base"}).status_code == 409
    )
    assert api.call("POST", "/api/v1/images", json={"cloud": "mars", "image_id": "x"}).status_code == 422
    assert (
        api.call(
            "POST", "/api/v1/images", json={"cloud": "aws", "image_id": "x", "parent": "nope"}
        ).status_code
        == 422
    )
    listed = api.call("GET", "/api/v1/images?release=debian-12", scope="read").json()
    assert [i["image_id"] for i in listed] == ["ami-base"]
    image = base.json()["id"]
    assert (
        api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "rebuilding"}).json()["remediation"]
        == "rebuilding"
    )
    assert api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "open"}).status_code == 409
    assert api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "gone"}).status_code == 422
    assert api.call("GET", "/api/v1/images?remediation=rebuilding", scope="read").json()[0]["id"] == image
    old = api.call(
        "POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-old", "release": "amzn-2"}
    )
    ended = api.call("GET", "/api/v1/images?lifecycle=end-of-life", scope="read").json()
    assert [i["image_id"] for i in ended] == ["ami-old"] and ended[0]["support_days_left"] < 0
    detail = api.call("GET", f"/api/v1/images/{old.json()['id']}", scope="read").json()
    # Amazon Linux 2 ended 2026-06-30 with no paid tier (Debian 11 would be extended-only: Freexian ELTS).
    assert detail["lifecycle"] == "end-of-life" and detail["replacement"] == "amzn-2023"
    assert api.call("GET", "/api/v1/images/999999", scope="read").status_code == 404


def test_reports_findings_exposure_and_instances(api: Api) -> None:
    image = api.call("POST", "/api/v1/images", json={"cloud": "gcp", "image_id": "debian-cloud/x"}).json()[
        "id"
    ]
    for document in (AUDIT, PACKAGES, VULN, VULN):
        assert api.call("POST", f"/api/v1/images/{image}/reports", json=document).status_code == 201
    bad = api.call("POST", f"/api/v1/images/{image}/reports", json={"schema": "other"})
    assert bad.status_code == 422 and "schema must be one of" in bad.json()["error"]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api.tokens['write']}"}
    broken = api.client.post(f"/api/v1/images/{image}/reports", content=b"{not json", headers=headers)
    assert broken.status_code in (400, 422)
    history = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert [r["schema"] for r in history] == [
        "imagevet/audit/v1",
        "imagevet/packages/v1",
        "imagevet/vuln/v1",
        "imagevet/vuln/v1",
    ]
    findings = api.call("GET", "/api/v1/findings?package=bash", scope="read").json()
    assert [(f["vuln_id"], f["origin"]) for f in findings] == [
        ("DSA-9002-1", "report")
    ]  # waived one left out
    assert (
        api.call("GET", "/api/v1/findings?vuln=CVE-2026-2222", scope="read").json()[0]["vuln_id"]
        == "DSA-9002-1"
    )
    instance = {"cloud": "gcp", "instance_id": "vm-1", "image_id": "debian-cloud/x"}
    assert api.call("POST", "/api/v1/instances", json=instance).status_code == 201
    assert api.call("POST", "/api/v1/instances", json={**instance, "image_id": "nope"}).status_code == 422
    exposure = api.call("GET", "/api/v1/exposure/CVE-2026-2222", scope="read").json()
    assert [i["id"] for i in exposure["images"]] == [image] and exposure["instances"][0][
        "instance_id"
    ] == "vm-1"
    detail = api.call("GET", f"/api/v1/images/{image}", scope="read").json()
    assert (
        detail["audit"]["fail"] == 2
        and detail["vulnerabilities"] == {"high": 1}
        and detail["instances"] == ["vm-1"]
    )


def test_rescan_flags_newly_exposed_images(database_url: str, tmp_path: Path) -> None:
    advisories = tmp_path / "osv.sqlite3"
    import_into(
        advisories,
        iter_inputs([FIXTURES / "osv/DSA-9001-1.json"], ImportStats()),
        "test",
        fresh_stamp(),
    )
    api = make_api(database_url, advisories)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-ssh"}).json()["id"]
    api.call("POST", f"/api/v1/images/{image}/reports", json=PACKAGES)
    api.call("POST", "/api/v1/instances", json={"cloud": "aws", "instance_id": "i-1", "image_id": "ami-ssh"})
    started = api.call("POST", "/api/v1/rescans")
    assert started.status_code == 202
    job = started.json()["job"]
    for _ in range(100):
        state = api.call("GET", f"/api/v1/jobs/{job}", scope="read").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "done" and state["result"]["newly_exposed"] == [image], state
    exposure = api.call("GET", "/api/v1/exposure/CVE-2026-1111", scope="read").json()
    assert exposure["instances"][0]["instance_id"] == "i-1"
    found = api.call("GET", "/api/v1/findings?vuln=DSA-9001-1", scope="read").json()
    assert found[0]["origin"] == "rescan" and found[0]["package"] == "openssh-client"
    again = api.call("POST", "/api/v1/rescans").json()["job"]
    for _ in range(100):
        state = api.call("GET", f"/api/v1/jobs/{again}", scope="read").json()
        if state["status"] == "done":
            break
        time.sleep(0.05)
    assert state["result"]["newly_exposed"] == []  # nothing new the second time
    no_db = make_api(
        database_url.replace("inventory", "other") if database_url.startswith("sqlite") else database_url
    )
    assert no_db.call("POST", "/api/v1/rescans").status_code == 409


def test_concurrent_writers_lose_and_duplicate_nothing(database_url: str) -> None:
    api = make_api(database_url, raise_errors=False)  # a server error must show up as a status, not vanish
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-c"}).json()["id"]
    errors: list[int] = []

    def writer(number: int) -> None:
        document = {
            "schema": "imagevet/vuln/v1",
            "findings": [
                {"id": f"DSA-{number}-1", "aliases": [], "package": "p", "severity": "low"},
                {"id": "DSA-SHARED-1", "aliases": [], "package": "p", "severity": "low"},
            ],
        }
        response = api.call("POST", f"/api/v1/images/{image}/reports", json=document)
        if response.status_code != 201:
            errors.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reports = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert errors == [] and len(reports) == 8
    engine = make_engine(database_url)
    with sessions(engine)() as session:
        ids = session.scalars(select(Finding.vuln_id).where(Finding.image_version_id == image)).all()
        total = session.scalar(select(func.count()).select_from(Finding))
    assert sorted(set(ids)) == sorted(ids) and total == len(ids)
    assert "DSA-SHARED-1" in ids and len(ids) == len(reports) + 1


def test_migrations_upgrade_an_existing_database(database_url: str) -> None:
    """A database made at the first revision, with data, is upgraded in place and keeps its rows."""
    from sqlalchemy import inspect, text

    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO image_versions (cloud, image_id, release, layer, name, remediation, created_at) "
            "VALUES ('aws', 'ami-kept', 'debian-12', '', '', 'open', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    assert "ix_reports_image_schema" not in {i["name"] for i in inspect(engine).get_indexes("reports")}
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    assert "ix_reports_image_schema" in {i["name"] for i in inspect(engine).get_indexes("reports")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT image_id FROM image_versions")).scalars().all() == ["ami-kept"]


def test_dashboard_pages_render_on_both_databases(database_url: str) -> None:
    """The overview groups findings by day in SQL (date() on SQLite and PostgreSQL alike)."""
    api = make_api(database_url)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-d"}).json()["id"]
    api.call("POST", f"/api/v1/images/{image}/reports", json=VULN)
    sign_in(api.client, api.tokens["read"])
    overview = api.client.get("/", follow_redirects=False)
    assert overview.status_code == 200, overview.text
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert 'id="chart-per-day"' in overview.text and today in overview.text
    assert 'data-severity="high"' in overview.text
    detail = api.client.get(f"/images/{image}", follow_redirects=False)
    assert detail.status_code == 200 and "DSA-9002-1" in detail.text
