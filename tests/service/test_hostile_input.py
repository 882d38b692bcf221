"""Hostile and out-of-range input to the API, on SQLite and on PostgreSQL (which, unlike SQLite, enforces
column lengths and refuses NUL characters): always a clear 4xx, never a 500, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.api import Api, make_api, sign_in

HUGE = "99999999999999999999999"


@pytest.fixture
def api(database_url: str) -> Api:
    api = make_api(database_url, raise_errors=False)
    assert api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-1"}).status_code == 201
    sign_in(api.client, api.tokens["read"])
    return api


CASES: list[tuple[str, str, Any]] = [
    ("GET", f"/api/v1/images/{HUGE}", None),
    ("PATCH", f"/api/v1/images/{HUGE}", {"remediation": "rebuilding"}),
    ("POST", f"/api/v1/images/{HUGE}/reports", {"schema": "imagevet/audit/v1"}),
    ("GET", f"/api/v1/images/{HUGE}/reports", None),
    ("POST", f"/api/v1/images/{HUGE}/audits", {"target": "/"}),
    ("GET", f"/api/v1/findings?image={HUGE}", None),
    ("GET", f"/api/v1/instances?image={HUGE}", None),
    ("GET", "/api/v1/findings?vuln=CVE%00", None),
    ("GET", "/api/v1/exposure/CVE-1%00", None),
    ("GET", "/api/v1/images?cloud=aws&image_id=a%00", None),
    ("POST", "/api/v1/images", {"cloud": "aws", "image_id": "ami-\u0000"}),
    ("POST", "/api/v1/instances", {"cloud": "aws", "instance_id": "i-\u0000", "image_id": "ami-1"}),
    ("POST", "/api/v1/images/1/reports",
     {"schema": "imagevet/packages/v1", "packages": [{"name": "bash", "version": "1" * 300}]}),
    ("POST", "/api/v1/images/1/reports",
     {"schema": "imagevet/packages/v1", "packages": [{"name": "ba\u0000sh", "version": "1"}]}),
    ("POST", "/api/v1/images/1/reports",
     {"schema": "imagevet/vuln/v1", "findings": [{"id": "X" * 200, "package": "p"}]}),
    ("POST", "/api/v1/images/1/reports", {"schema": "imagevet/audit/v1", "summary": {"note": "\u0000"}}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), CASES, ids=[f"{m} {p[:40]}" for m, p, _ in CASES])
def test_hostile_input_is_a_clear_4xx(api: Api, method: str, path: str, body: Any) -> None:
    response = api.call(method, path, scope="admin", json=body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.json().get("error") or response.json().get("detail"), response.text
    assert [i["image_id"] for i in api.call("GET", "/api/v1/images", scope="read").json()] == ["ami-1"]
    assert api.call("GET", "/api/v1/images/1/reports", scope="read").json() == []


def test_huge_ids_on_the_dashboard(api: Api) -> None:
    assert api.client.get(f"/images/{HUGE}").status_code == 404


def test_text_that_only_looks_like_a_nul_escape_is_accepted(api: Api) -> None:
    """A backslash followed by "u0000" is ordinary text, not a NUL."""
    document = {"schema": "imagevet/audit/v1", "notices": ["C:\\u0000"]}
    response = api.call("POST", "/api/v1/images/1/reports", json=document)
    assert response.status_code == 201, response.text


def test_validation_errors_name_the_field_in_the_api_shape(api: Api) -> None:
    response = api.call("POST", "/api/v1/images", json={"cloud": "mars", "image_id": "x"})
    assert response.status_code == 422 and response.json()["error"].startswith("cloud: ")
    missing = api.call("GET", "/api/v1/findings?image=0", scope="read")
    assert missing.status_code == 422 and "image: " in missing.json()["error"]
