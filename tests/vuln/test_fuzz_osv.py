"""Property-based fuzzing of the OSV record reader (hypothesis, bounded for CI): whatever bytes or JSON
values come in, ``decode_record`` and ``parse_record`` return an Advisory or raise OsvError, never another
exception, quickly and in bounded memory; what they accept can be stored by the real database code."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.vuln.db import SCHEMA, store
from imagevet.vuln.osv import OsvError, decode_record, parse_record, read_record, surrogates_possible

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(
    ["id", "affected", "package", "ecosystem", "name", "ranges", "type", "events", "introduced", "fixed",
     "last_affected", "limit", "versions", "severity", "score", "aliases", "related", "summary", "details",
     "modified", "withdrawn", "database_specific", "ecosystem_specific", "upstream", "x"]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "ECOSYSTEM",
            "Debian:12",
            "0",
            "1.0-1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "high",
            "\ud800",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


def record_like() -> st.SearchStrategy[Any]:
    """Mostly record-shaped values, so the fuzzer reaches deep into parse_record."""
    event = st.dictionaries(
        st.sampled_from(["introduced", "fixed", "last_affected", "limit", "x"]),
        JSON | st.text(max_size=8),
        max_size=2,
    )
    range_ = st.fixed_dictionaries(
        {"type": st.sampled_from(["ECOSYSTEM", "GIT", 3]), "events": st.lists(event, max_size=4) | JSON}
    )
    package = st.fixed_dictionaries(
        {"ecosystem": st.text(max_size=12) | JSON, "name": st.text(max_size=12) | JSON}
    )
    entry = st.fixed_dictionaries(
        {"package": package | JSON},
        optional={
            "ranges": st.lists(range_, max_size=3) | JSON,
            "versions": st.lists(st.text(max_size=6), max_size=3) | JSON,
            "ecosystem_specific": JSON,
            "database_specific": JSON,
        },
    )
    return st.fixed_dictionaries(
        {"id": st.text(min_size=1, max_size=12) | JSON, "affected": st.lists(entry, max_size=3) | JSON},
        optional={"severity": JSON, "aliases": JSON, "summary": JSON, "modified": JSON, "withdrawn": JSON},
    )  # fmt: skip


def _storable(value: Any) -> None:
    try:
        advisory = parse_record(value)
    except OsvError:
        return
    connection = sqlite3.connect(":memory:")
    connection.executescript(SCHEMA)
    assert store(connection, [advisory]) == 1  # what parse_record accepts, the database can hold


@FUZZ
@given(record_like())
def test_record_shaped_values_parse_or_raise_osv_error(value: Any) -> None:
    _storable(value)


@FUZZ
@given(JSON)
def test_any_json_value_parses_or_raises_osv_error(value: Any) -> None:
    _storable(value)


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_decode_or_raise_osv_error(data: bytes) -> None:
    with contextlib.suppress(OsvError):
        _storable(decode_record(data))


def outcome(read: Any, data: bytes) -> Any:
    """What the importer makes of ``data`` given a reader returning (value, surrogates possible)."""
    try:
        return parse_record(*read(data))
    except OsvError as exc:
        return str(exc)


def json_reader(data: bytes) -> tuple[Any, bool]:
    """The reader before orjson: json alone."""
    return decode_record(data), surrogates_possible(data)


EDGES = [b'"\\ud800"', b'{"id": "X-\\udc00", "affected": []}', b'{"id": "X-\xed\xa0\x80", "affected": []}',
         b'\xef\xbb\xbf{"id": "X-1", "affected": []}', b'{"id": "X-1", "affected": [], "x": NaN}',
         b'{"id": "X-1", "affected": [], "x": 1e400}', b'{"id": 123456789012345678901234567890}',
         b'{"id": "X-1", "affected": [], "x": 123456789012345678901234567890}', b"\xff", b'"\xc0\x80"',
         b'{"id": "X-1", "id": "X-2", "affected": []}', b"[" * 1500 + b"]" * 1500,
         '{"id": "X-1", "affected": []}'.encode("utf-16"), b'{"id": "X-1", "affected": [],}']  # fmt: skip


@pytest.mark.parametrize("data", EDGES)
def test_orjson_first_reads_what_json_alone_read(data: bytes) -> None:
    """Where orjson and json differ (lone surrogates, a byte order mark, NaN, big integers, UTF-16 ...)
    the record is what json alone made of it: the same advisory, or the same refusal."""
    assert outcome(read_record, data) == outcome(json_reader, data)


def utf8_json(value: Any) -> bytes:
    """``value`` as JSON text in UTF-8, its lone surrogates written as the bytes json would decode."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@FUZZ
@given(record_like().map(utf8_json) | record_like().map(lambda value: json.dumps(value).encode()))
def test_orjson_first_reads_any_record_as_json_alone(data: bytes) -> None:
    assert outcome(read_record, data) == outcome(json_reader, data)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=200_000),
    st.sampled_from(["[", '{"a":']),
    st.sampled_from(["summary", "severity", "database_specific", "aliases", "affected"]),
)
def test_absurd_nesting_is_refused_fast_and_small(depth: int, opener: str, field: str) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    data = f'{{"id": "X-1", "affected": [], "{field}": {nested}}}'.encode()
    tracemalloc.start()
    started = time.monotonic()
    with contextlib.suppress(OsvError):
        _storable(decode_record(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.monotonic() - started < 1.0 and peak < 20 * 1024 * 1024


def test_a_real_record_still_parses() -> None:
    from tests.support.advisories import RECORDS

    advisory = parse_record(decode_record((RECORDS / "DSA-9001-1.json").read_bytes()))
    assert advisory.id == "DSA-9001-1" and advisory.affected
    assert json.loads((RECORDS / "DSA-9001-1.json").read_text())["id"] == advisory.id
