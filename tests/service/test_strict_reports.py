"""Issue 15, item 10: the service is as strict as the CLI about the reports it takes, on SQLite and on
PostgreSQL.

- A malformed report body, of any shape, is a 4xx, never a 500, and nothing of it is stored.
- A report that was stored can never make `GET /images/{id}` (page or API) fail, even one stored before
  the service checked reports (written into the database directly, as an older imagevet stored it).
- Body validation (NUL, depth, numbers) never runs before authentication: without a valid token the
  answer is 401 whatever the body.
- A report with the same finding twice (a multilib package, once per architecture) is merged, not a
  permanent 409.
- A pushed report fills the image's release from its os; a report whose os contradicts the image's
  release is refused (409) and stores nothing; PATCH corrects a wrong release."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from imagevet.service.db import Finding, InventoryPackage, Report, make_engine, sessions
from tests.service.api import AUDIT, PACKAGES, VULN, Api, make_api, sign_in
from tests.service.http import call
from tests.support.cli import run_imagevet
from tests.support.serve import server

MARKER = "EVIL-MARKER-7c1f"  # hostile content: never echoed back


@pytest.fixture
def api(database_url: str) -> Api:
    api = make_api(database_url, raise_errors=False)  # a server error must show as a 500, not vanish
    created = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-1"})
    assert created.status_code == 201
    sign_in(api.client, api.tokens["read"])
    api.url = database_url  # type: ignore[attr-defined]
    return api


def stored(api: Api) -> dict[str, int]:
    with sessions(make_engine(api.url))() as db:  # type: ignore[attr-defined]
        return {
            name: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("reports", Report), ("packages", InventoryPackage), ("findings", Finding))
        }


def with_(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with the member at ``path`` (dots; digits index lists) set to ``value``."""
    result = copy.deepcopy(document)
    here: Any = result
    parts = path.split(".")
    for part in parts[:-1]:
        here = here[int(part)] if part.isdigit() else here[part]
    last = parts[-1]
    if last.isdigit():
        here[int(last)] = value
    else:
        here[last] = value
    return result


RESULT = {
    "check": "ssh-root-login", "title": "t", "status": "fail", "severity": "high", "rationale": "r",
    "evidence": [{"detail": "d", "path": "/etc/ssh/sshd_config", "line": 3}],
    "remediation": [{"kind": "command", "run": "true", "note": ""}],
}  # fmt: skip
FULL_AUDIT = {**AUDIT, "results": [RESULT], "os": PACKAGES["os"]}

BAD_DOCUMENTS: list[tuple[str, Any]] = [
    ("not an object", [PACKAGES]),
    ("a string", "imagevet/packages/v1"),
    ("unknown schema", {"schema": MARKER}),
    ("packages missing", {"schema": "imagevet/packages/v1", "os": PACKAGES["os"]}),
    ("packages an object", with_(PACKAGES, "packages", {"name": "bash"})),
    ("packages a number", with_(PACKAGES, "packages", 5)),
    ("package a string", with_(PACKAGES, "packages.0", MARKER)),
    ("package name a dict", with_(PACKAGES, "packages.0.name", {"x": MARKER})),
    ("package version a number", with_(PACKAGES, "packages.0.version", 12)),
    ("package version empty", with_(PACKAGES, "packages.0.version", "")),
    ("package arch too long", with_(PACKAGES, "packages.0.arch", "x" * 33)),
    ("package type a list", with_(PACKAGES, "packages.0.type", ["deb"])),
    ("os a string", with_(PACKAGES, "os", MARKER)),
    ("os id a number", with_(PACKAGES, "os.id", 12)),
    ("os id_like a string", with_(PACKAGES, "os.id_like", MARKER)),
    ("findings missing", {"schema": "imagevet/vuln/v1"}),
    ("findings a string", with_(VULN, "findings", MARKER)),
    ("finding aliases a number", with_(VULN, "findings.0.aliases", 5)),
    ("finding aliases a string", with_(VULN, "findings.0.aliases", MARKER)),
    ("finding aliases of numbers", with_(VULN, "findings.0.aliases", [1, 2])),
    ("finding fixed a dict", with_(VULN, "findings.0.fixed", {"v": MARKER})),
    ("finding fixed too long", with_(VULN, "findings.0.fixed", "1" * 257)),
    ("finding id missing", with_(VULN, "findings.0.id", None)),
    ("finding severity a bool", with_(VULN, "findings.0.severity", True)),
    ("finding waiver a string", with_(VULN, "findings.0.waiver", MARKER)),
    ("summary a string", with_(AUDIT, "summary", MARKER)),
    ("summary count a string", with_(AUDIT, "summary.fail", MARKER)),
    ("summary count negative", with_(AUDIT, "summary.fail", -1)),
    ("summary count a float", with_(AUDIT, "summary.fail", 1.5)),
    ("summary unknown key a list", with_(AUDIT, f"summary.{MARKER}", [])),
    ("results a number", with_(FULL_AUDIT, "results", 7)),
    ("results of strings", with_(FULL_AUDIT, "results", [MARKER])),
    ("result title a dict", with_(FULL_AUDIT, "results.0.title", {"x": 1})),
    ("evidence a number", with_(FULL_AUDIT, "results.0.evidence", 3)),
    ("evidence line a string", with_(FULL_AUDIT, "results.0.evidence.0.line", MARKER)),
    ("remediation of numbers", with_(FULL_AUDIT, "results.0.remediation", [1])),
    ("remediation run a list", with_(FULL_AUDIT, "results.0.remediation.0.run", [MARKER])),
]

BAD_BODIES: list[tuple[str, bytes]] = [
    ("not JSON", b"{" + MARKER.encode()),
    ("not UTF-8", b'{"schema": "imagevet/audit/v1", "x": "\xff\xfe' + MARKER.encode() + b'"}'),
    ("nested 100 000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("nested 40 deep", json.dumps({**AUDIT, "x": json.loads("[" * 40 + "]" * 40)}).encode()),
    ("NaN", b'{"schema": "imagevet/audit/v1", "summary": {"fail": NaN}}'),
    ("Infinity", b'{"schema": "imagevet/audit/v1", "x": -Infinity}'),
    ("a float beyond double", b'{"schema": "imagevet/audit/v1", "x": 1e999}'),
    ("a 5000-digit integer", b'{"schema": "imagevet/audit/v1", "x": ' + b"9" * 5000 + b"}"),
    ("an integer beyond 64 bits", b'{"schema": "imagevet/audit/v1", "summary": {"fail": 9223372036854775808}}'),  # noqa: E501
    ("a lone surrogate", b'{"schema": "imagevet/audit/v1", "notices": ["\\ud800' + MARKER.encode() + b'"]}'),
    ("a NUL escape in a key", b'{"schema": "imagevet/audit/v1", "a\\u0000": 1}'),
    ("a raw NUL", b'{"schema": "imagevet/audit/v1", "x": "a\x00"}'),
    ("empty", b""),
]  # fmt: skip


def _refused(api: Api, name: str, response: Any) -> None:
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert MARKER not in response.text, name
    assert response.json()["error"], name
    assert stored(api) == {"reports": 0, "packages": 0, "findings": 0}, name
    image = api.call("GET", "/api/v1/images/1", scope="read")
    assert image.status_code == 200 and image.json()["release"] == "", name
    assert api.client.get("/images/1").status_code == 200, name


def test_a_malformed_report_is_a_4xx_and_stores_nothing(api: Api) -> None:
    for name, document in BAD_DOCUMENTS:
        _refused(api, name, api.call("POST", "/api/v1/images/1/reports", json=document))


def test_a_malformed_body_is_a_4xx_and_stores_nothing(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.tokens['write']}", "Content-Type": "application/json"}
    for name, body in BAD_BODIES:
        _refused(api, name, api.client.post("/api/v1/images/1/reports", content=body, headers=headers))


def test_no_body_is_looked_at_before_authentication(api: Api) -> None:
    """Without a valid token: 401 whatever the body (it is not read, so it cannot make validation fail),
    then 429 once the client has failed ten times; never 400, 413 or 500."""
    statuses = []
    for name, body in BAD_BODIES:
        for headers in ({}, {"Authorization": "Bearer ivt_wrong"}, {"Authorization": "Basic " + MARKER}):
            response = api.client.post(
                "/api/v1/images/1/reports", content=body,
                headers={**headers, "Content-Type": "application/json"},
            )  # fmt: skip
            statuses.append(response.status_code)
            assert response.status_code in (401, 429), (name, response.status_code, response.text)
            assert MARKER not in response.text
            if response.status_code == 401:
                assert response.headers["www-authenticate"] == "Bearer"
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    assert stored(api)["reports"] == 0


def test_every_route_with_a_body_takes_it_within_the_same_bounds(api: Api) -> None:
    for path in ("/api/v1/images", "/api/v1/instances", "/api/v1/images/1/audits", "/api/v1/rescans"):
        for name, body in BAD_BODIES[2:7]:
            headers = {"Authorization": f"Bearer {api.tokens['admin']}", "Content-Type": "application/json"}
            response = api.client.post(path, content=body, headers=headers)
            assert response.status_code == 400, (path, name, response.status_code, response.text)
    assert [i["image_id"] for i in api.call("GET", "/api/v1/images", scope="read").json()] == ["ami-1"]
    assert api.call("GET", "/api/v1/jobs", scope="read").json() == []


def test_a_stored_report_never_breaks_the_image_pages(api: Api, database_url: str) -> None:
    """Reports stored before the service checked them (written into the database directly, as an older
    imagevet stored them): odd shapes, wrong types, huge numbers, a NUL and a lone surrogate (both of which
    PostgreSQL's json type keeps, as escapes). Both the API and the page still answer."""
    odd = [
        {"schema": "imagevet/audit/v1", "summary": "everything passed", "results": 5},
        {"schema": "imagevet/audit/v1", "summary": {"fail": "many", "pass": 10**30, "x": [1]},
         "results": ["a", 3, {"check": 1, "status": ["fail"], "evidence": 7, "remediation": [{"kind": 3}]}]},
        {"schema": "imagevet/audit/v1", "results": [{"title": "a\ud800b", "evidence": [{"detail": "\x00"}]}]},
        {"schema": "imagevet/packages/v1", "os": {"id": ["debian"], "id_like": 5}, "packages": 3},
    ]  # fmt: skip
    with sessions(make_engine(database_url))() as db:
        for document in odd:
            db.add(Report(image_version_id=1, schema=document["schema"], document=document))
            db.commit()
            detail = api.call("GET", "/api/v1/images/1", scope="read")
            assert detail.status_code == 200, detail.text
            assert all(isinstance(v, int) for v in (detail.json()["audit"] or {}).values())
            page = api.client.get("/images/1")
            assert page.status_code == 200, page.text
            assert api.client.get("/").status_code == 200
    rescan = api.call("POST", "/api/v1/rescans")  # no advisory database here: refused, not crashed
    assert rescan.status_code == 409


def test_accepted_reports_show_on_both_pages(api: Api) -> None:
    for document in (FULL_AUDIT, PACKAGES, VULN):
        assert api.call("POST", "/api/v1/images/1/reports", json=document).status_code == 201
    detail = api.call("GET", "/api/v1/images/1", scope="read").json()
    assert detail["audit"] == AUDIT["summary"] and detail["release"] == "debian-12"
    page = api.client.get("/images/1")
    assert page.status_code == 200 and "ssh-root-login" in page.text and "DSA-9002-1" in page.text


def test_the_same_finding_twice_is_merged_not_a_permanent_409(api: Api) -> None:
    """Multilib: libc6 for amd64 and i386 are both affected by one advisory; the CLI lists the finding
    once per architecture. Stored once, with the aliases of both and the higher severity, and again on
    every push (the same report twice is not a conflict either)."""
    base = {"id": "DSA-5001-1", "package": "libc6", "installed": "2.36-9", "fixed": "2.36-9+deb12u1"}
    document = {
        "schema": "imagevet/vuln/v1",
        "findings": [
            {**base, "aliases": ["CVE-2026-0001"], "severity": "medium"},
            {**base, "aliases": ["CVE-2026-0002"], "severity": "high", "fixed": None},
            {**base, "id": "DSA-5002-1", "aliases": [], "severity": "low"},
        ],
    }
    for _ in range(3):
        response = api.call("POST", "/api/v1/images/1/reports", json=document)
        assert response.status_code == 201, response.text
    findings = api.call("GET", "/api/v1/findings?package=libc6", scope="read").json()
    merged = next(f for f in findings if f["vuln_id"] == "DSA-5001-1")
    assert len(findings) == 2 and stored(api)["findings"] == 2
    assert merged["aliases"] == ["CVE-2026-0001", "CVE-2026-0002"] and merged["severity"] == "high"
    assert merged["fixed"] is None  # one architecture has no fix yet: the finding is not "fixed in ..."
    assert (
        api.call("GET", "/api/v1/findings?vuln=CVE-2026-0002", scope="read").json()[0]["package"] == "libc6"
    )
    assert stored(api)["reports"] == 3


def test_a_pushed_report_fills_the_release_and_a_contradicting_one_is_refused(api: Api) -> None:
    image = api.call("GET", "/api/v1/images/1", scope="read").json()
    assert image["release"] == "" and image["lifecycle"] == "unknown"
    assert api.call("POST", "/api/v1/images/1/reports", json=PACKAGES).status_code == 201
    image = api.call("GET", "/api/v1/images/1", scope="read").json()
    assert image["release"] == "debian-12" and image["lifecycle"] == "supported"
    assert [i["id"] for i in api.call("GET", "/api/v1/images?release=debian-12", scope="read").json()] == [1]
    before = stored(api)
    ubuntu = with_(with_(PACKAGES, "os.id", "ubuntu"), "os.version_id", "24.04")
    refused = api.call("POST", "/api/v1/images/1/reports", json=ubuntu)
    assert refused.status_code == 409 and "debian-12" in refused.json()["error"], refused.text
    assert "ubuntu" not in refused.json()["error"]  # the refused report's content is not echoed
    assert stored(api) == before
    # The registration was wrong: PATCH the release, then the report is taken.
    fixed = api.call("PATCH", "/api/v1/images/1", json={"release": "ubuntu-24.04"})
    assert fixed.status_code == 200 and fixed.json()["release"] == "ubuntu-24.04"
    assert api.call("POST", "/api/v1/images/1/reports", json=ubuntu).status_code == 201
    assert api.call("PATCH", "/api/v1/images/1", json={"release": "Not A Release"}).status_code == 422
    assert api.call("PATCH", "/api/v1/images/1", json={}).status_code == 422
    # A report without an os (os-release unreadable) fills nothing and contradicts nothing.
    assert api.call("POST", "/api/v1/images/1/reports", json={**AUDIT, "os": None}).status_code == 201


def test_over_real_http(tmp_path: Path) -> None:
    """The same rules through uvicorn (`imagevet serve`): hostile bodies without a token are 401 and
    are not read; with one, a clear 4xx; a multilib report twice is 201 twice; the server keeps serving
    and its image pages answer."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    token = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    multilib = {"schema": "imagevet/vuln/v1", "findings": [
        {"id": "DSA-5001-1", "package": "libc6", "severity": "low"},
        {"id": "DSA-5001-1", "package": "libc6", "severity": "high"},
    ]}  # fmt: skip
    with server(url, env) as base:
        assert (
            call(base, "POST", "/api/v1/images", token, {"cloud": "aws", "image_id": "ami-h"}).status == 201
        )
        hostile = [body for _, body in BAD_BODIES if body]
        for body in hostile[:9]:
            assert call(base, "POST", "/api/v1/images/1/reports", raw=body).status == 401
        for body in hostile:
            answer = call(base, "POST", "/api/v1/images/1/reports", token, raw=body)
            assert answer.status == 400 and MARKER not in answer.text, (answer.status, answer.text)
        for _, document in BAD_DOCUMENTS[:12]:
            answer = call(base, "POST", "/api/v1/images/1/reports", token, document)
            assert answer.status == 422 and MARKER not in answer.text, answer.text
        for _ in range(2):
            assert call(base, "POST", "/api/v1/images/1/reports", token, multilib).status == 201
        assert call(base, "GET", "/api/v1/images/1/reports", token).json() != []
        assert len(call(base, "GET", "/api/v1/findings", token).json()) == 1
        assert call(base, "GET", "/api/v1/images/1", token).status == 200
