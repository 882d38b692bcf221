"""Fuzzing report ingestion (issue 15, item 10) with hypothesis: arbitrary JSON shapes, report-shaped
documents with wrong types, depth, NUL and lone surrogates, huge and non-finite numbers, and raw bytes.

- The pure layer (service/payload.py, service/ingest.py) answers with a value or PayloadError /
  ValidationError, never another exception.
- Through the service (SQLite and PostgreSQL, whose json type and column widths are stricter), a report
  is a 201 or a 4xx, never a 500; whatever was taken, the image's API answer and page still work.
Bounded: a few hundred examples, no deadline per example, well under ten seconds per test here."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from imagevet.service import ingest, payload
from tests.service.api import Api, make_api, sign_in

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates and NUL included
SHORT = st.one_of(
    st.text(max_size=8), ANY_TEXT, st.just("x" * 300), st.sampled_from(["", "deb", "debian", "12"])
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, SHORT)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SHORT, inner, max_size=4),
    max_leaves=20,
)


def _fields(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: st.one_of(SHORT, JSON) for k in keys})


PACKAGE = st.one_of(_fields(("name", "version", "source", "source_version", "arch", "purl", "type")), JSON)
FINDING = st.one_of(
    st.fixed_dictionaries(
        {"id": st.one_of(st.sampled_from(["DSA-1-1", "DSA-2-1"]), SHORT), "package": st.sampled_from("pq")},
        optional={"aliases": st.one_of(st.lists(SHORT, max_size=3), JSON), "fixed": st.one_of(SHORT, JSON),
                  "installed": SHORT, "severity": st.one_of(st.sampled_from(["low", "high"]), JSON),
                  "waiver": st.one_of(st.none(), JSON)},
    ),
    JSON,
)  # fmt: skip
RESULT = st.one_of(
    st.fixed_dictionaries({}, optional={
        "check": SHORT, "title": SHORT, "status": st.one_of(st.sampled_from(["pass", "fail"]), JSON),
        "evidence": st.one_of(st.lists(_fields(("detail", "path", "line")), max_size=2), JSON),
        "remediation": st.one_of(st.lists(_fields(("kind", "run", "note")), max_size=2), JSON),
    }),
    JSON,
)  # fmt: skip
OS = st.one_of(st.none(), _fields(("id", "version_id", "name", "pretty_name", "family", "id_like")), JSON)
REPORTS = st.fixed_dictionaries(
    {"schema": st.sampled_from(ingest.SCHEMAS)},
    optional={
        "os": OS,
        "packages": st.one_of(st.lists(PACKAGE, max_size=4), JSON),
        "findings": st.one_of(st.lists(FINDING, max_size=4), JSON),
        "summary": st.one_of(
            st.dictionaries(st.sampled_from(["pass", "fail", "x"]), NUMBERS, max_size=3), JSON
        ),
        "results": st.one_of(st.lists(RESULT, max_size=3), JSON),
        "notices": JSON,
    },
)
# Well-typed reports (their texts plain, their numbers in range): the ones that get stored, and must then
# be storable on PostgreSQL and showable on every page.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
PLAIN_OS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "id": st.sampled_from(["debian", "ubuntu", "rhel", "alpine"]),
            "version_id": st.sampled_from(["12", "24.04", "9.4"]),
            "name": TEXT,
            "pretty_name": TEXT,
            "family": st.sampled_from(["debian", "rhel", "alpine"]),
        }
    ),
)
PLAIN_PACKAGE = st.fixed_dictionaries(
    {"name": TEXT.filter(bool), "version": TEXT.filter(bool)},
    optional={"arch": st.sampled_from(["amd64", "i386"]), "source": TEXT, "type": st.just("deb")},
)
PLAIN_FINDING = st.fixed_dictionaries(
    {"id": st.sampled_from(["DSA-1-1", "DSA-2-1"]), "package": st.sampled_from("pq")},
    optional={
        "aliases": st.lists(TEXT, max_size=2),
        "fixed": st.one_of(st.none(), TEXT),
        "severity": st.sampled_from(["low", "high", "critical"]),
        "installed": TEXT,
    },
)
PLAIN_EVIDENCE = st.fixed_dictionaries(
    {"detail": TEXT, "path": st.one_of(st.none(), TEXT), "line": st.one_of(st.none(), st.integers(1, 10**9))}
)
PLAIN_RESULT = st.fixed_dictionaries(
    {"check": TEXT, "title": TEXT, "status": st.sampled_from(["pass", "fail"])},
    optional={"evidence": st.lists(PLAIN_EVIDENCE, max_size=2)},
)
PLAIN = st.one_of(
    st.fixed_dictionaries(
        {
            "schema": st.just("imagevet/packages/v1"),
            "os": PLAIN_OS,
            "packages": st.lists(PLAIN_PACKAGE, max_size=5),
        }
    ),
    st.fixed_dictionaries(
        {
            "schema": st.just("imagevet/vuln/v1"),
            "os": PLAIN_OS,
            "findings": st.lists(PLAIN_FINDING, max_size=5),
        }
    ),
    st.fixed_dictionaries(
        {"schema": st.just("imagevet/audit/v1"), "os": PLAIN_OS},
        optional={
            "summary": st.dictionaries(st.sampled_from(["pass", "fail", "error"]), st.integers(0, 10**6)),
            "results": st.lists(PLAIN_RESULT, max_size=3),
            "notices": st.lists(TEXT, max_size=2),
            "extra": JSON,
        },
    ),
)
NESTED = st.integers(min_value=1, max_value=3000).map(lambda depth: ("[" * depth + "]" * depth).encode())


def encode(document: Any) -> bytes:
    """As a client would send it; non-finite floats as the NaN/Infinity tokens json.dumps writes, lone
    surrogates as \\ud800 escapes."""
    return json.dumps(document).encode()


BODIES = st.one_of(
    PLAIN.map(encode), PLAIN.map(encode), PLAIN.map(encode), REPORTS.map(encode), REPORTS.map(encode),
    JSON.map(encode), NESTED, st.binary(max_size=200), st.text(max_size=100).map(str.encode),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_parsing_and_checking_raise_only_their_own_errors(body: bytes) -> None:
    try:
        value = payload.parse(body)
    except payload.PayloadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    try:
        checked = ingest.check_document(value)
    except ingest.ValidationError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    json.dumps(value, allow_nan=False).encode("utf-8")  # what was taken can be stored and shown
    for row in checked.packages:
        assert all(isinstance(v, str) for v in row.values())
        assert all(len(row[k]) <= w for k, w in ingest.PACKAGE_WIDTHS.items())
    assert len({(f["vuln_id"], f["package"]) for f in checked.findings}) == len(checked.findings)


@pytest.fixture(scope="module")
def services() -> dict[str, Api]:
    return {}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_the_service_answers_201_or_4xx_and_keeps_serving(
    database_url: str, services: dict[str, Api], body: bytes
) -> None:
    api = services.get(database_url)
    if api is None:  # one service per database for all examples: stored reports accumulate
        api = services[database_url] = make_api(database_url, raise_errors=False)
        sign_in(api.client, api.tokens["read"])
    created = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": f"ami-{uuid.uuid4()}"})
    assert created.status_code == 201
    image = created.json()["id"]  # a new image each time, so its release is filled (or not) afresh
    headers = {"Authorization": f"Bearer {api.tokens['write']}", "Content-Type": "application/json"}
    response = api.client.post(f"/api/v1/images/{image}/reports", content=body, headers=headers)
    event(f"HTTP {response.status_code}")
    assert response.status_code in (201, 400, 409, 422), (response.status_code, response.text, body[:300])
    assert response.json()["error" if response.status_code != 201 else "id"]
    detail = api.call("GET", f"/api/v1/images/{image}", scope="read")
    assert detail.status_code == 200, detail.text
    assert api.client.get(f"/images/{image}").status_code == 200
    if response.status_code == 201:  # and the same report again: never a conflict with itself
        again = api.client.post(f"/api/v1/images/{image}/reports", content=body, headers=headers)
        assert again.status_code == 201, again.text
