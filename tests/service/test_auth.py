"""Tokens and scopes in front of every API route (service/routes/deps.py, service/limits.py): no token or a
wrong one is 401, a read token cannot write (403), failed authentication is rate-limited per client (429)."""

from __future__ import annotations

from tests.service.api import Api


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
