"""--severity values (Trivy's convention): comma-separated, case-insensitive; bad values are refused."""

from __future__ import annotations

import pytest

from imagevet.errors import ImagevetError
from imagevet.model import Severity
from imagevet.report.filter import hidden_line, parse_severities


def test_values_are_case_insensitive_and_unknown_is_info() -> None:
    shown = parse_severities(" Critical,HIGH ,, unknown")
    assert shown.shown == {Severity.CRITICAL, Severity.HIGH, Severity.INFO}
    assert shown.labels() == ["info", "high", "critical"]
    assert shown.shows("unknown") and shown.shows("high") and not shown.shows("medium")


@pytest.mark.parametrize("text", ["crit", "high,severe", "HIGH,5"])
def test_a_bad_value_is_named_with_the_choices(text: str) -> None:
    with pytest.raises(ImagevetError) as caught:
        parse_severities(text)
    message = str(caught.value)
    bad = next(p.strip() for p in text.split(",") if p.strip().lower() not in ("high",))
    assert repr(bad) in message and "info, low, medium, high, critical" in message
    assert "\n" not in message


def test_no_value_at_all_is_refused() -> None:
    with pytest.raises(ImagevetError, match="names no severity"):
        parse_severities(" , ")


def test_the_hidden_line_counts_and_names_the_filter() -> None:
    note = parse_severities("critical").note(3, ["ssh-root-login", "ssh-root-login"])
    assert note == {"severity": ["critical"], "hidden": 3, "failing": ["ssh-root-login"]}
    assert hidden_line(note) == (
        "3 results are outside --severity critical and not shown; failing the gate among them: ssh-root-login"
    )
    assert (
        hidden_line(parse_severities("low").note(1, [])) == "1 result is outside --severity low and not shown"
    )


def test_the_scale_is_ordered_and_maps_to_sarif() -> None:
    assert [s.rank for s in Severity] == sorted(s.rank for s in Severity)
    assert [s.sarif_level for s in Severity] == ["note", "note", "warning", "error", "error"]
    assert [float(s.security_severity) for s in Severity] == sorted(
        float(s.security_severity) for s in Severity
    )
    assert Severity.of("UNKNOWN") is Severity.INFO
    with pytest.raises(ValueError):
        Severity.of("severe")
