"""The sudoers negation-removal command (checks/sudo_fix.py): one command for every flag, refused for a
name a shell or sed would read as more. It is applied for real with visudo in a chroot by
tests/harden/test_sudo_fixes.py (!authenticate) and tests/harden/test_loosened_fixes.py (!use_pty)."""

from __future__ import annotations

import pytest

from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.sudo_fix import negation_removal_command
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
    assert command.endswith("/etc/sudoers /etc/sudoers.d")  # and a negation left afterwards fails the fix


@pytest.mark.parametrize("flag", ["use_pty/d", "a'b", "", "USE PTY", "x;reboot"])
def test_a_flag_that_is_not_a_sudoers_name_is_refused(flag: str) -> None:
    with pytest.raises(DataError, match="not a sudoers flag"):
        negation_removal_command(flag)
