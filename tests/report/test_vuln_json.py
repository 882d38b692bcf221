"""The vuln report's compact JSON (report/vuln.compact_json) is written by orjson for speed, and must be the
bytes json.dumps(ensure_ascii=False, separators=(",", ":")) wrote before, for every document a scan makes:
generated documents of that shape (any text, scores with one decimal, ages rounded to two, counts, None),
and what orjson refuses (a lone surrogate from an undecodable package name, an integer over 64 bits, a
key that is no string) goes to json, so such a run fails or succeeds exactly as it did."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from imagevet.report.vuln import compact_json


def reference(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # every code point but surrogates
SCORE = st.none() | st.integers(0, 100).map(lambda tenths: tenths / 10)
AGE = st.none() | st.floats(0, 1e6, allow_nan=False).map(lambda days: round(days, 2))
FINDING = st.fixed_dictionaries(
    {
        "id": TEXT,
        "aliases": st.lists(TEXT, max_size=4),
        "package": TEXT,
        "installed": TEXT,
        "fixed": st.none() | TEXT,
        "score": SCORE,
        "summary": TEXT,
        "waiver": st.none() | st.fixed_dictionaries({"reason": TEXT, "expires": st.none() | TEXT}),
    }
)
DOCUMENT = st.fixed_dictionaries(
    {
        "schema": st.just("imagevet/vuln/v1"),
        "coverage": st.fixed_dictionaries({"records": st.integers(0, 2**63 - 1), "age_days": AGE}),
        "findings": st.lists(FINDING, max_size=12),
        "summary": st.fixed_dictionaries({"total": st.integers(0, 10**6), "complete": st.booleans()}),
        "notices": st.lists(TEXT, max_size=3),
    }
)


@settings(max_examples=1500, deadline=None)
@given(DOCUMENT)
def test_the_bytes_are_those_of_json(document: dict[str, Any]) -> None:
    assert compact_json(document) == reference(document)


def test_control_characters_quotes_and_non_ascii_are_escaped_as_json_does() -> None:
    text = '\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f"\\/ é ü 中文 \u2028\u2029 \U0001f600 \ufeff'
    document = {"summary": text, "score": 9.8, "age": 0.0, "zero": 0, "none": None, "yes": True}
    assert compact_json(document) == reference(document)


def test_what_orjson_refuses_is_written_by_json_as_before() -> None:
    for document in ({"package": "bad\udcff"}, {"records": 2**70}, {"counts": {1: 2}}):
        assert compact_json(document) == reference(document)
