"""Waiver files as users and attackers write them: every refusal is one line with the file and the line.

The hostile files are written here, by hand, the way a user or an attacker would: impossible dates,
YAML timestamps, wrong types, duplicate keys and checks, deep nesting, alias bombs, control characters.
Hypothesis then mutates valid files and builds random YAML documents: a parse is a WaiverSet or a
WaiverError, never another exception, and a refusal never quotes the file.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.catalog import safe_yaml
from imagevet.errors import WaiverError
from imagevet.waivers import parse_vuln_waivers, parse_waivers
from tests.conftest import AS_OF_DATE, AS_OF_DAY, FIXTURES
from tests.support.cli import run_imagevet

KNOWN = {"ssh-root-login", "ssh-password-auth", "os-lts"}
MARK = "ZQ"  # appears in hostile values and never in imagevet's own messages
HARDENED = str(FIXTURES / "rootfs/hardened-debian")
GOOD = "waivers:\n  - check: ssh-root-login\n    reason: break-glass, OPS-1\n    expires: 2027-03-31\n"


def refusal(text: str, vuln: bool = False) -> str:
    with pytest.raises(WaiverError) as caught:
        if vuln:
            parse_vuln_waivers(text, AS_OF_DAY, source="w.yaml")
        else:
            parse_waivers(text, KNOWN, AS_OF_DAY, source="w.yaml")
    message = str(caught.value)
    assert message.startswith("w.yaml: ") and "\n" not in message and MARK not in message, message
    return message


def entry(check: str = "ssh-root-login", reason: str = "r", expires: str | None = None) -> str:
    text = f"waivers:\n  - check: {check}\n    reason: {reason}\n"
    return text + (f"    expires: {expires}\n" if expires is not None else "")


def test_a_valid_file_and_its_dates() -> None:
    result = parse_waivers(GOOD + entry("os-lts", "quoted date", "'2025-01-01'")[9:], KNOWN, AS_OF_DAY)
    assert result.active["ssh-root-login"].expires == dt.date(2027, 3, 31)
    assert "os-lts" not in result.active and "expired on 2025-01-01" in result.notices[0]
    assert parse_waivers("", KNOWN, AS_OF_DAY).active == {}
    assert parse_waivers("waivers:\n", KNOWN, AS_OF_DAY).active == {}
    assert set(parse_waivers("- {check: os-lts, reason: r}\n", KNOWN, AS_OF_DAY).active) == {"os-lts"}


@pytest.mark.parametrize(
    ("expires", "fragment"),
    [
        ("2027-02-30", "line 4: waiver #1: 'expires' is not a real date"),
        ("2027-13-01", "line 4: waiver #1: 'expires' is not a real date"),
        ("'2027-02-29'", "not a real date"),
        ("2027-01-01 10:00:00", "has a time of day"),
        ("2027-01-01T10:00:00Z", "has a time of day"),
        ("20270101", "'expires' must be a date"),
        ("'2027-1-1'", "is not a YYYY-MM-DD date"),
        ("'2027-W13-1'", "is not a YYYY-MM-DD date"),
        ("[2027-01-01]", "not a list or mapping"),
        ("{at: 2027-01-01}", "not a list or mapping"),
        ("yes", "'expires' must be a date"),
        ("'\u0662\u0660\u0662\u0667-01-01'", "is not a YYYY-MM-DD date"),
    ],
)
def test_dates_that_do_not_exist_or_are_not_dates(expires: str, fragment: str) -> None:
    assert fragment in refusal(entry(expires=expires))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (entry(check="12"), "line 2: waiver #1: 'check' must be text, not a number"),
        (entry(check="[a, b]"), "line 2: waiver #1: 'check' must be a single value"),
        (entry(check=f"'{MARK} spaces'"), "line 2: waiver #1: 'check' must be a check id"),
        (entry(check='"\\e[31mZQ"'), "line 2: waiver #1: 'check' contains control characters"),
        (entry(reason="[1, 2]"), "line 3: waiver #1: 'reason' must be a single value"),
        (entry(reason="''"), "line 3: waiver #1 needs a non-empty 'reason'"),
        (entry(reason="~"), "line 3: waiver #1 needs a non-empty 'reason'"),
        (entry(reason="true"), "'reason' must be text, not true/false"),
        (entry(reason="x" * 2001), "'reason' is longer than 2000 characters"),
        (entry(reason="!!binary aGVsbG8="), "'reason' must be text, not binary data"),
        (
            entry(reason="!!python/name:os.system ZQ"),
            "line 3: waiver #1: 'reason' has an unsupported tag",
        ),
        ("waivers:\n  - check: os-lts\n", "line 2: waiver #1 needs a non-empty 'reason'"),
        ("waivers:\n  - reason: r\n", "line 2: waiver #1 needs a 'check'"),
        ("waivers:\n  - check: os-lts\n    reason: r\n    ZQ: 1\n", "line 4: waiver #1 has an unknown field"),
        ("waivers:\n  - check: os-lts\n    check: ZQ\n    reason: r\n", "line 3: waiver #1: duplicate key"),
        (entry() + entry()[9:], "line 4: waiver #2 repeats the check of waiver #1 (line 2)"),
        ("waivers:\n  - ZQ\n", "line 2: waiver #1 must be a mapping"),
        ("waivers: ZQ\n", "line 1: the file must hold a list under 'waivers'"),
        ("waivers: []\nZQ: 1\n", "line 2: unknown top-level key: the only top-level key is 'waivers'"),
        ("waivers: []\nwaivers: []\n", "line 2: the top level: duplicate key (first given on line 1)"),
        ("ZQ\n", "line 1: the file must hold a list under 'waivers'"),
        ("waivers: [\n  {check: 'ZQ\n", "not valid YAML"),
        ("waivers:\n\t- ZQ\n", "line 2: not valid YAML"),
        ("waivers: []\n---\nwaivers: []\n", "not valid YAML"),
        (
            "waivers:\n  - check: os-lts\n    reason: \x07ZQ\n",
            "line 3: contains a character YAML does not allow",
        ),
    ],
)
def test_wrong_types_and_shapes_name_the_line(text: str, fragment: str) -> None:
    assert fragment in refusal(text)


def test_vuln_waivers_need_an_advisory_id_and_an_expiry() -> None:
    good = "waivers:\n  - id: RHSA-2024:1234\n    reason: r\n    expires: 2027-01-01\n"
    assert set(parse_vuln_waivers(good, AS_OF_DAY).active) == {"RHSA-2024:1234"}
    assert "line 2: waiver #1 needs an 'expires' date" in refusal(
        good.replace("    expires: 2027-01-01\n", ""), True
    )
    assert "'id' must be an advisory id" in refusal(good.replace("RHSA-2024:1234", "'a b ZQ'"), True)
    assert "has an unknown field (allowed: id, reason, expires)" in refusal(
        good.replace("id:", "check:"), True
    )
    assert "not a real date" in refusal(good.replace("2027-01-01", "2027-04-31"), True)


def test_nesting_aliases_and_size_are_bounded() -> None:
    started = time.monotonic()
    assert "nested deeper than 8 levels" in refusal("waivers: " + "[" * 20 + "]" * 20 + "\n")
    assert "not valid YAML" in refusal("waivers: " + "[" * 10_000 + "]" * 10_000 + "\n")
    assert "line 9: nested deeper than 8" in refusal(
        "waivers:\n" + "".join("  " * i + "-\n" for i in range(1, 600))
    )

    def laughs(levels: int) -> str:
        rows = "".join(f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, levels))
        return "waivers:\n  - &a0 [ZQ]\n" + rows

    assert "more than 100 aliases" in refusal(laughs(13))
    assert "line 2: waiver #1 must be a mapping" in refusal(laughs(11))  # 9**10 leaves, never expanded
    assert "'<<' merges a mapping into itself" in refusal(
        "waivers:\n  - &x {check: os-lts, reason: r, <<: *x}\n"
    )
    assert "larger than 512 KiB" in refusal("# " + "x" * (512 * 1024) + "\n")
    assert time.monotonic() - started < 5


def test_without_libyaml_deep_nesting_is_refused_before_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_yaml, "_loader", lambda: yaml.SafeLoader)  # the pure-Python composer recurses
    started = time.monotonic()
    assert "line 1: nested deeper than 8 levels" in refusal("waivers: " + "[" * 10_000 + "]" * 10_000)
    assert time.monotonic() - started < 1
    assert set(parse_waivers(GOOD, KNOWN, AS_OF_DAY).active) == {"ssh-root-login"}


def test_in_a_merge_list_the_earlier_mapping_wins() -> None:
    """YAML's merge-key spec: keys of mappings earlier in the sequence override later ones."""
    assert yaml.safe_load("a: &a {r: A}\nb: &b {r: B, e: 1}\nc: {<<: [*a, *b]}\n")["c"] == {"r": "A", "e": 1}
    text = (
        "waivers:\n"
        "  - &a {check: ssh-root-login, reason: from a}\n"
        "  - &b {check: ssh-password-auth, reason: from b, expires: 2027-01-01}\n"
        "  - {<<: [*a, *b], check: os-lts}\n"
    )
    got = parse_waivers(text, KNOWN, AS_OF_DAY).active["os-lts"]
    assert (got.reason, got.expires) == ("from a", dt.date(2027, 1, 1))


def test_merge_keys_work_and_explicit_keys_win() -> None:
    text = (
        "waivers:\n  - &base {check: os-lts, reason: shared reason}\n  - {<<: *base, check: ssh-root-login}\n"
    )
    active = parse_waivers(text, KNOWN, AS_OF_DAY).active
    assert active["ssh-root-login"].reason == "shared reason" and set(active) == {"os-lts", "ssh-root-login"}


def test_a_large_honest_file_parses_quickly() -> None:
    text = "waivers:\n" + "".join(
        f"  - check: check-{i}\n    reason: accepted risk number {i}\n    expires: 2027-01-01\n"
        for i in range(4000)
    )
    assert len(text) < 512 * 1024
    started = time.monotonic()
    result = parse_waivers(text, None, AS_OF_DAY)  # type: ignore[arg-type]
    assert len(result.active) == 4000 and time.monotonic() - started < 2


# ----------------------------------------------------------------------------- fuzz

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        ["ssh-root-login", "os-lts", "2027-02-30", "2027-13-01", "ZQ-1", "check", "reason", "expires"]
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["waivers", "check", "reason", "expires", "id", "ZQ"]) | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _parse_both(text: str) -> None:
    for parse in (
        lambda: parse_waivers(text, KNOWN, AS_OF_DAY, source="w.yaml"),
        lambda: parse_vuln_waivers(text, AS_OF_DAY, source="w.yaml"),
    ):
        try:
            parse()
        except WaiverError as exc:
            message = str(exc)
            assert message.startswith("w.yaml: ") and "\n" not in message and len(message) < 300, message


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_any_text(text: str) -> None:
    _parse_both(text)


@FUZZ
@given(documents)
def test_fuzz_random_yaml_documents(document: object) -> None:
    _parse_both(yaml.safe_dump({"waivers": [document]}))
    _parse_both(yaml.safe_dump(document))


@FUZZ
@given(st.data())
def test_fuzz_mutated_valid_files(data: st.DataObject) -> None:
    text = GOOD + "  - id: CVE-2026-1\n    check: os-lts\n    reason: r\n    expires: 2027-01-01\n"
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["cut", "insert", "replace", "truncate"]))
        if action == "truncate":
            text = text[:position]
        elif action == "cut":
            text = text[:position] + text[position + data.draw(st.integers(1, 5)) :]
        else:
            piece = data.draw(
                st.sampled_from(
                    [
                        ":",
                        "-",
                        " ",
                        "\n",
                        "[",
                        "{",
                        "&a",
                        "*a",
                        "!!",
                        "'",
                        "#",
                        "\t",
                        "ZQ",
                        "2027-02-30",
                        "\x00",
                    ]
                )
            )
            text = text[:position] + piece + text[position + (1 if action == "replace" else 0) :]
    _parse_both(text)


# ----------------------------------------------------------------------------- the CLI, as a user runs it


def one_line_error(proc: object, path: Path) -> str:
    returncode, stderr = proc.returncode, proc.stderr  # type: ignore[attr-defined]
    assert returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error:"), stderr
    assert "Traceback" not in stderr and MARK not in stderr
    # The file is named: by its path once the CLI passes it (source=), until then as "waiver file".
    assert str(path) in lines[0] or "waiver file: " in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (entry(expires="2027-02-30"), "line 4: waiver #1: 'expires' is not a real date"),
        (entry(expires="2027-13-01"), "line 4: waiver #1: 'expires' is not a real date"),
        (entry(expires="2027-01-01 10:00:00"), "line 4: waiver #1: 'expires' has a time of day"),
        (entry(expires="[ZQ]"), "line 4: waiver #1: 'expires' must be a date"),
        (entry(check="[ZQ]"), "line 2: waiver #1: 'check' must be a single value"),
        (entry() + entry()[9:], "line 4: waiver #2 repeats the check of waiver #1"),
        ("waivers: []\nZQ: 1\n", "line 2: unknown top-level key"),
        ("waivers: " + "[" * 10_000, "not valid YAML"),
        (
            "waivers:\n" + "".join("  " * i + "-\n" for i in range(1, 100)) + "  " * 100 + "ZQ\n",
            "line 9: nested deeper than 8 levels",
        ),
    ],
)
def test_audit_refuses_a_bad_waiver_file_in_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(content)
    line = one_line_error(
        run_imagevet("audit", HARDENED, "--waivers", str(path), "--as-of", AS_OF_DATE), path
    )
    assert fragment in line, line


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            "waivers:\n  - id: CVE-2026-1\n    reason: r\n    expires: 2027-02-30\n",
            "line 4: waiver #1: 'expires' is not a real date",
        ),
        ("waivers:\n  - id: CVE-2026-1\n    reason: r\n", "line 2: waiver #1 needs an 'expires' date"),
        (
            "waivers:\n  - id: 2026\n    reason: r\n    expires: 2027-01-01\n",
            "line 2: waiver #1: 'id' must be text",
        ),
    ],
)
def test_vuln_refuses_a_bad_waiver_file_in_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "vuln-waivers.yaml"
    path.write_text(content)
    proc = run_imagevet("vuln", HARDENED, "--waivers", str(path), "--db", str(tmp_path / "none.sqlite3"))
    assert fragment in one_line_error(proc, path)
