"""Number options refuse what no one means (nan, inf), from the command line, a variable or the settings
file, and a refused value is never echoed, whatever quotes it holds (found by review, issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import one_line_error, run_in

REPO = Path(__file__).resolve().parents[2]
ROOT = str(REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian")


@pytest.mark.parametrize("value", ["nan", "inf", "NaN", "1e999"])
def test_a_float_option_refuses_what_is_not_finite(tmp_path: Path, value: str) -> None:
    code, _, err = run_in(tmp_path, "audit", ROOT, f"--lifecycle-years={value}")
    assert code == 2 and one_line_error(err) == "imagevet: error: --lifecycle-years: not a finite number"


def test_a_variable_that_is_not_finite_is_named(tmp_path: Path) -> None:
    code, _, err = run_in(tmp_path, "db", "update", "--timeout", "inf", "--base-url", "http://127.0.0.1:9/")
    assert code == 2 and one_line_error(err).endswith("--timeout: not a finite number")
    code, _, err = run_in(tmp_path, "audit", ROOT, IMAGEVET_LIFECYCLE_YEARS="nan")
    assert code == 2 and "IMAGEVET_LIFECYCLE_YEARS: --lifecycle-years: not a finite number" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["audit", ROOT, "--lifecycle-years=ab'c\u202e"], "--lifecycle-years: not a number"),
        (["serve", "--port", "ab'c"], "--port: not a whole number"),
        (["serve", "--port", 'a"b'], "--port: not a whole number"),
    ],
)
def test_a_refused_value_is_not_echoed_whatever_its_quotes(
    tmp_path: Path, args: list[str], said: str
) -> None:
    code, _, err = run_in(tmp_path, *args)
    assert code == 2 and one_line_error(err) == f"imagevet: error: {said}"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["audit", ROOT, "--timeout", "-1"], "--timeout: must be at least 0.1"),
        (["audit", ROOT, "--timeout=0.05"], "--timeout: must be at least 0.1"),
        (["audit", ROOT, "--concurrency", "0"], "--concurrency: must be at least 1"),
        (["audit", ROOT, "--concurrency", "257"], "--concurrency: must be at most 256"),
    ],
)
def test_a_value_below_a_decimal_bound_names_the_bound(tmp_path: Path, args: list[str], said: str) -> None:
    """Click ends "-1.0 is not in the range x>=0.1." with a full stop, which was read as part of the bound
    (a traceback); found by the differential test of the fast parser."""
    code, _, err = run_in(tmp_path, *args)
    assert code == 2 and one_line_error(err) == f"imagevet: error: {said}"
