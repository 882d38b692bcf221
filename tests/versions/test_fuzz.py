"""Version comparators under arbitrary input: an ordering or VersionError, never another exception.

Hypothesis drives three kinds of test, each bounded in time for CI:
- robustness: any string (control characters, non-ASCII digits such as '\u0663' and '\u00b2', digit runs
  of thousands of digits) either compares or raises VersionError;
- ordering laws on what compares: antisymmetry, equality consistent with itself, transitivity on triples;
- the real tools as oracles: `dpkg --compare-versions` (dpkg 1.21 here) and librpm's `rpm.ver` (Debian's
  python3-rpm, run by the system Python in one long-lived process). apk-tools does not run on Debian:
  its own test tables (../shared/data/versions, in test_versions.py) stand in for it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagevet.errors import VersionError
from imagevet.versions import SCHEMES, compare

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYSTEM_PYTHON = "/usr/bin/python3"

# Characters each scheme gives meaning to, plus the ones that tempt a parser into the wrong branch.
DEB_CHARS = "0123456789abzAZ.+~:-"
RPM_CHARS = "0123456789abzAZ.+~^_:-"
APK_CHARS = "0123456789abrz._~-"
ODD_CHARS = "\u0663\u00b2\u00e9 \t\n\x00\x1b\ud800"

long_digits = st.integers(min_value=19, max_value=6000).map(lambda n: "9" * n)


def version_text(alphabet: str, odd: str = ODD_CHARS) -> st.SearchStrategy[str]:
    """Mostly the scheme's own alphabet, sometimes odd characters and very long digit runs."""
    piece = st.one_of(
        st.text(alphabet, min_size=1, max_size=6),
        st.text(alphabet + odd, min_size=1, max_size=3),
        long_digits,
    )
    return st.lists(piece, min_size=1, max_size=5).map("".join)


def outcome(scheme: str, a: str, b: str) -> int | None:
    """compare() as a value: its sign, or None for VersionError (any other exception fails the test)."""
    try:
        result = compare(scheme, a, b)
    except VersionError:
        return None
    assert result in (-1, 0, 1)
    return result


# ----------------------------------------------------------------------------- robustness


@FUZZ
@given(st.sampled_from(SCHEMES), st.text(), st.text())
@example("deb", "\u0663:1", "1")
@example("deb", "\u00b2:1", "1")
@example("deb", "9" * 5000 + ":1", "1")
@example("deb", "1." + "9" * 5000, "1.2")
@example("rpm", "9" * 5000 + ":1-1", "1:1-1")
@example("rpm", "\u00b2:1-1", "1-1")
@example("apk", "1." + "9" * 5000, "1.2")
@example("apk", "1\u0663", "1")
@example("apk", "1\u00b2", "1")
def test_any_text_compares_or_raises_version_error(scheme: str, a: str, b: str) -> None:
    outcome(scheme, a, b)


@FUZZ
@given(st.sampled_from(SCHEMES), st.data())
def test_scheme_like_text_compares_or_raises_version_error(scheme: str, data: st.DataObject) -> None:
    alphabet = {"deb": DEB_CHARS, "rpm": RPM_CHARS, "apk": APK_CHARS}[scheme]
    outcome(scheme, data.draw(version_text(alphabet)), data.draw(version_text(alphabet)))


def test_long_and_non_ascii_digits_follow_the_tools() -> None:
    huge = "9" * 5000
    assert compare("deb", f"1.{huge}", "1.2") == 1  # dpkg compares digit runs of any length
    assert compare("deb", f"1.{huge}", f"1.{huge}8") == -1
    assert compare("rpm", f"{huge}:1-1", "1:1-1") == 1  # rpm compares epochs as digit strings too
    assert compare("rpm", "1\u0663-1", "1-1") == 0  # rpmvercmp: a non-ASCII character separates
    for bad in ("\u0663:1", "\u00b2:1", "2147483648:1", "1\u0663", "1.\u00b2"):
        with pytest.raises(VersionError):
            compare("deb", bad, "1")
    for bad in ("1\u0663", "1\u00b2", "1.18446744073709551616", f"1.{huge}"):
        with pytest.raises(VersionError):
            compare("apk", bad, "1")
    assert compare("apk", "1.18446744073709551615", "1.2") == 1  # the largest number apk holds


def test_version_errors_show_a_bounded_escaped_version() -> None:
    with pytest.raises(VersionError) as caught:
        compare("deb", "\x1b[31m" + "9" * 5000 + ":1", "1")
    message = str(caught.value)
    assert "\x1b" not in message and len(message) < 200 and "5007 characters" in message


# ----------------------------------------------------------------------------- ordering laws


def _laws(scheme: str, a: str, b: str, c: str) -> None:
    ab, ba, bc, ac = (outcome(scheme, x, y) for x, y in ((a, b), (b, a), (b, c), (a, c)))
    if ab is not None:
        assert ba == -ab, (a, b)
    if ab is None or bc is None or ac is None:
        return
    if ab == 0 and bc == 0:
        assert ac == 0, (a, b, c)
    if ab <= 0 and bc <= 0:
        assert ac <= 0, (a, b, c)
    if ab >= 0 and bc >= 0:
        assert ac >= 0, (a, b, c)


@FUZZ
@given(st.sampled_from(SCHEMES), st.data())
def test_ordering_laws(scheme: str, data: st.DataObject) -> None:
    alphabet = {"deb": "0123456789ab.+~-", "rpm": "0123456789ab.~^_-", "apk": "0123456789abr._-"}[scheme]
    short = st.text(alphabet, min_size=1, max_size=6)
    first = data.draw(short)
    # Triples that share a prefix reach the interesting comparisons far more often than random ones.
    a, b, c = (first + data.draw(st.text(alphabet, max_size=4)) for _ in range(3))
    _laws(scheme, a, b, c)


# ----------------------------------------------------------------------------- dpkg as the oracle


def _dpkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", "--compare-versions", "--", *args], capture_output=True, text=True)


def _dpkg_syntax(version: str) -> str:
    """What dpkg says about the version's syntax: "ok", "warning" or "error"."""
    proc = _dpkg(version, "eq", version)
    if proc.returncode == 2 or "error" in proc.stderr:
        return "error"
    return "warning" if "warning" in proc.stderr else "ok"


def _dpkg_order(a: str, b: str) -> int:
    if _dpkg(a, "lt", b).returncode == 0:
        return -1
    return 0 if _dpkg(a, "eq", b).returncode == 0 else 1


# What a command line can carry: no NUL, no lone surrogate.
deb_oracle_text = version_text(DEB_CHARS, "\u0663\u00b2\u00e9 \t\n\x1b").filter(
    lambda v: v.strip(" \t") not in ("", "<unknown>")  # dpkg reads these as "no version"
)


@pytest.mark.real
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deb_oracle_text, deb_oracle_text)
@example("+1:1", "1:1")
@example("\n1:1", "1:1")
@example("-0:1", "0:1")
@example("2147483647:1", "1")
@example("1:" + "9" * 5000, "1:2")
def test_deb_agrees_with_dpkg_on_generated_versions(a: str, b: str) -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    ours = outcome("deb", a, b)
    syntax = {_dpkg_syntax(a), _dpkg_syntax(b)}
    if ours is None:
        # imagevet refuses what dpkg refuses, and what dpkg only warns about (it cannot read it exactly).
        assert syntax & {"error", "warning"}, (a, b)
    else:
        assert "error" not in syntax, (a, b)
        assert ours == _dpkg_order(a, b), (a, b)


# ----------------------------------------------------------------------------- librpm as the oracle

RPM_ORACLE = (
    "import json, sys, rpm\n"
    "for line in sys.stdin:\n"
    "    a, b = json.loads(line)\n"
    "    va, vb = rpm.ver(a), rpm.ver(b)\n"
    "    print(json.dumps([(va > vb) - (va < vb), va.r is not None and vb.r is not None]), flush=True)\n"
)


@pytest.fixture(scope="module")
def librpm() -> Iterator[subprocess.Popen[str]]:
    """One system-Python process with python3-rpm answering comparisons line by line."""
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import rpm"]).returncode:
        pytest.skip("python3-rpm (librpm's Python binding) is not installed")
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", RPM_ORACLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=10)


def _rpm_answer(librpm: subprocess.Popen[str], a: str, b: str) -> tuple[int, bool]:
    assert librpm.stdin is not None and librpm.stdout is not None
    librpm.stdin.write(json.dumps([a, b]) + "\n")
    librpm.stdin.flush()
    order, both_have_release = json.loads(librpm.stdout.readline())
    return order, both_have_release


def _refused_on_purpose(evr: str) -> bool:
    """Where imagevet refuses an EVR that librpm would read (documented in versions/rpm.py)."""
    text = evr.strip()
    epoch, colon, rest = text.partition(":")
    after_epoch = rest if colon else text
    return (
        any(ch.isspace() for ch in text)
        or bool(colon and not (epoch.isascii() and epoch.isdigit()))
        or after_epoch.endswith("-")
        or after_epoch.startswith("-")
        or not after_epoch
    )


rpm_part = st.text(RPM_CHARS.replace("-", "").replace(":", "") + "\u0663\u00e9", min_size=1, max_size=8)
rpm_evr = st.one_of(
    st.tuples(st.sampled_from(["", "0:", "1:", "01:", "2:", "9" * 30 + ":"]), rpm_part, rpm_part).map(
        lambda t: f"{t[0]}{t[1]}-{t[2]}"
    ),
    version_text(RPM_CHARS, "\u0663\u00e9 \t").filter(lambda v: bool(v.strip())),
)


@pytest.mark.real
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rpm_evr, rpm_evr)
@example("1.0-1", "1.0-1.el9")
@example("1.0^post1-1", "1.0-1")
@example("1.0~rc1-1", "1.0-1")
@example("9" * 5000 + ":1-1", "1:1-1")
def test_rpm_agrees_with_librpm_on_generated_versions(librpm: subprocess.Popen[str], a: str, b: str) -> None:
    ours = outcome("rpm", a, b)
    if ours is None:
        assert _refused_on_purpose(a) or _refused_on_purpose(b), (a, b)
        return
    real, both_have_release = _rpm_answer(librpm, a, b)
    if both_have_release:  # without a release imagevet matches any release (rpm's range semantics)
        assert ours == real, (a, b)
