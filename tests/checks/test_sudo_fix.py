"""The sudoers negation-removal and timeout commands (checks/sudo_fix.py): one command for every flag,
refused for a name a shell or sed would read as more. It is applied for real with visudo in a chroot by
tests/harden/test_sudo_fixes.py (!authenticate) and tests/harden/test_loosened_fixes.py (!use_pty)."""

from __future__ import annotations

import pytest

from imagevet.checks.metadata import builtin_metadata, parse_record
from imagevet.checks.sudo_fix import negation_removal_command, timeout_cap_command
from imagevet.errors import DataError


@pytest.mark.parametrize(
    ("check", "flag"), [("sudo-use-pty", "use_pty"), ("sudo-authenticate", "authenticate")]
)
def test_both_rows_use_the_one_command(check: str, flag: str) -> None:
    steps = builtin_metadata()[check].remediation_for("debian")
    assert steps[0].kind == "command" and steps[0].text == negation_removal_command(flag)


def test_no_match_is_let_through_and_a_failed_edit_is_not() -> None:
    """The script runs with pipefail: grep's 1 (nothing to edit, a second run) must not fail the fix; a file
    visudo refuses, and a negation still there after the edit, must."""
    command = negation_removal_command("use_pty")
    assert "2>/dev/null || [ $? -eq 1 ]; } | { imagevet_rc=0; while" in command
    # and a negation left afterwards fails the fix; only grep's "no match" passes, not its error (2)
    assert command.endswith("/etc/sudoers /etc/sudoers.d; [ $? -eq 1 ]; }")


@pytest.mark.parametrize("flag", ["use_pty/d", "a'b", "", "USE PTY", "x;reboot"])
def test_a_flag_that_is_not_a_sudoers_name_is_refused(flag: str) -> None:
    with pytest.raises(DataError, match="not a sudoers flag"):
        negation_removal_command(flag)


def test_the_timeout_row_uses_the_generated_command() -> None:
    [step] = builtin_metadata()["sudo-reauth-timeout"].remediation_for("rhel")
    assert step.kind == "command" and step.text == timeout_cap_command(15)


def test_the_timeout_is_capped_only_at_cis_minutes_and_named_by_a_number() -> None:
    with pytest.raises(DataError, match="15 minutes"):
        timeout_cap_command(30)
    record = {"title": "t", "severity": "low", "rationale": "r", "references": ["x"],
              "remediation": {"default": [{"sudoers-timeout": "15; reboot"}]}}  # fmt: skip
    with pytest.raises(DataError, match="check sudo-x: a sudoers-timeout step needs a number of minutes"):
        parse_record("sudo-x", record)
