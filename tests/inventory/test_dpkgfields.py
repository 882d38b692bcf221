"""The one-match acceptance of plain dependency fields (dpkgfields.py ``plainly_well_formed``) never
accepts a value dpkg's rules refuse, and takes the fields of a real status file.

Values are generated from the pieces the rules turn on (names, architectures, each operator and broken
ones, epochs of every size, hyphens, colons, parentheses, every blank of c_isspace, ``|`` and ``,``), so
most of them stray from the plain shape somewhere; for each, in both kinds of field (with and without
alternatives), a match of the expression implies the rules accept it. The real Depends, Breaks, Provides
... of the debootstrap root's status file all match, so the fast path is the one a scan takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagevet.inventory import deb822, dpkgfields
from imagevet.inventory.dpkgdb import DEPENDENCY_FIELDS

PIECES = st.sampled_from(
    ["libc6", "a", "A0", "-x", "+", ".", "_", ":", ":amd64", ":any", "-", " ", "\t", "\v", "\n", "\r",
     "(", ")", "<<", "<=", ">=", ">>", "<", ">", "=", "<>", "=<", "1.0", "2:", "0:", "99999999999:",
     "1.0-1", "-1", "~rc", "|", ",", ", ", " | ", "é", "\x00", "1:2:3"]
)  # fmt: skip


def rules_accept(value: str, field: str) -> bool:
    try:
        dpkgfields.check_dependency_rules(value, field)
    except dpkgfields.FieldError:
        return False
    return True


@settings(max_examples=5000, deadline=None)
@given(st.lists(PIECES, max_size=24))
def test_a_plain_match_is_a_value_the_rules_accept(pieces: list[str]) -> None:
    value = "".join(pieces)
    for field in ("Depends", "Provides"):
        if dpkgfields.plainly_well_formed(value, field):
            assert rules_accept(value, field), repr(value)
        # Either way check_dependency decides as the rules do.
        try:
            dpkgfields.check_dependency(value, field)
            fast = True
        except dpkgfields.FieldError:
            fast = False
        assert fast == rules_accept(value, field), repr(value)


@pytest.mark.parametrize(
    "value",
    ["libc6 (>= 2.34)", "a | b (<< 1:2.0-1~b1), c:any", "x (= 0:1)", "python3 (>= 3.11~), python3 (<< 3.12)",
     "d (1.0)", "e:amd64 (>> 1.0-1-2)"],
)  # fmt: skip
def test_plain_values_take_the_fast_path(value: str) -> None:
    assert dpkgfields.plainly_well_formed(value, "Depends")
    assert rules_accept(value, "Depends")


@pytest.mark.parametrize(
    ("value", "field"),
    [("a | b", "Provides"), ("a,", "Depends"), (" a", "Depends"), ("a (>= 1:)", "Depends"),
     ("a (<> 1)", "Depends"), ("a (>= 1.0-)", "Depends"), ("a (>= 9999999999:1)", "Depends"),
     ("-a", "Depends"), ("a:", "Depends"), ("a (>= 1 2)", "Depends")],
)  # fmt: skip
def test_values_the_rules_refuse_are_refused(value: str, field: str) -> None:
    assert not dpkgfields.plainly_well_formed(value, field)
    with pytest.raises(dpkgfields.FieldError):
        dpkgfields.check_dependency(value, field)


def test_a_real_status_file_takes_the_fast_path(debian_root: Path) -> None:
    text = (debian_root / "var/lib/dpkg/status").read_bytes().decode("latin-1")
    values = [
        (entry.name, entry.value)
        for stanza in deb822.parse_stanzas(text)
        for entry in stanza.fields
        if entry.name.lower() in DEPENDENCY_FIELDS and entry.value
    ]
    assert len(values) > 300
    for name, value in values:
        assert dpkgfields.plainly_well_formed(value, name.title()), (name, value)
        assert rules_accept(value, name.title())


@pytest.mark.parametrize(
    "value",
    ["a (" + " " * 200_000 + ")", "a (" + " \t" * 100_000 + "1:2:3)", "a" + " " * 200_000 + "!",
     "a (>=" + " " * 200_000 + "1 !", "a, " * 100_000 + "!", "a (1)" + " " * 200_000 + "|"],
)  # fmt: skip
def test_a_long_hostile_value_is_judged_in_linear_time(value: str) -> None:
    """A status file is the image's, so a field may be built to make the expression backtrack: 200,000
    blanks are judged (either way) in well under a second, as dpkg's walk judges them."""
    import time

    started = time.perf_counter()
    dpkgfields.plainly_well_formed(value, "Depends")
    assert time.perf_counter() - started < 0.5
