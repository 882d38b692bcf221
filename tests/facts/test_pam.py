"""PAM stack parsing and the pwquality / faillock settings that apply, with the libraries' precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.pam import (
    effective,
    faillock_settings,
    gather_pam,
    parse_stack,
)
from imagevet.facts.pam_syntax import logical_lines
from imagevet.facts.pwquality import gather_pwquality
from imagevet.target import RootfsTarget

DEBIAN_AUTH = """\
# here are the per-package modules (the "Primary" block)
auth\trequisite\t\t\tpam_faillock.so preauth
auth\t[success=1 default=ignore]\tpam_unix.so nullok
auth\t[default=die]\t\t\tpam_faillock.so authfail deny=4
-auth optional /lib/x86_64-linux-gnu/security/pam_systemd_home.so
@include common-other
auth\trequisite\t\t\tpam_deny.so
"""


def test_parse_stack_understands_brackets_dashes_paths_and_includes() -> None:
    lines = parse_stack(DEBIAN_AUTH, "/etc/pam.d/common-auth")
    assert [(m.kind, m.module, m.line) for m in lines] == [
        ("auth", "pam_faillock.so", 2),
        ("auth", "pam_unix.so", 3),
        ("auth", "pam_faillock.so", 4),
        ("auth", "pam_systemd_home.so", 5),
        ("@include", "common-other", 6),  # kept for a reader that follows includes (facts/pam_service.py)
        ("auth", "pam_deny.so", 7),
    ]
    assert lines[2].argument("deny") == "4" and lines[2].argument("authfail") == ""
    assert lines[0].argument("deny") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auth required \\\n  pam_unix.so nullok\n", [(1, "auth required    pam_unix.so nullok", None)]),
        (
            "auth required pam_unix.so # \\\nnullok\n",
            [(1, "auth required pam_unix.so", None), (2, "nullok", None)],
        ),
        (
            "auth required \\\n\npam_unix.so\n",
            [
                (1, "auth required", "a continued line runs into a blank or comment line"),
                (3, "pam_unix.so", None),
            ],
        ),
        ("  # only a comment\n\n\tauth required pam_deny.so", [(3, "auth required pam_deny.so", None)]),
        ("auth required pam_unix.so \\", [(1, "auth required pam_unix.so", None)]),  # at the end of the file
    ],
)
def test_logical_lines_as_libpam_assembles_them(
    text: str, expected: list[tuple[int, str, str | None]]
) -> None:
    assert logical_lines(text) == expected


def test_types_and_controls_are_case_insensitive_brackets_are_kept() -> None:
    (line,) = parse_stack("AUTH [Success=1 Default=ignore] pam_unix.so\n", "x")
    assert (line.kind, line.control) == ("auth", "[Success=1 Default=ignore]")
    (line,) = parse_stack("Password REQUIRED pam_unix.so\n", "x")
    assert (line.kind, line.control) == ("password", "required")


def write(root: Path, files: dict[str, str]) -> RootfsTarget:
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return RootfsTarget(str(root))


def test_pwquality_dropins_are_read_before_the_main_file(tmp_path: Path) -> None:
    target = write(
        tmp_path,
        {
            "/etc/security/pwquality.conf.d/10-a.conf": "minlen = 12\n",
            "/etc/security/pwquality.conf.d/20-b.conf": "minlen = 16\n",
        },
    )
    assert gather_pwquality(target).settings["minlen"].value == "16"
    (tmp_path / "etc/security/pwquality.conf").write_text("# minlen = 9\nminlen = 10\n")
    setting = gather_pwquality(target).settings["minlen"]
    assert (setting.value, setting.path, setting.line) == ("10", "/etc/security/pwquality.conf", 2)


def test_defaults_and_module_arguments(tmp_path: Path) -> None:
    target = write(tmp_path, {"/etc/pam.d/common-auth": DEBIAN_AUTH})
    settings = faillock_settings(target)
    assert settings["deny"].path == "default" and settings["unlock_time"].value == "600"
    present, lines = gather_pam(target).stack_modules("auth", "pam_faillock.so")
    assert present == ["/etc/pam.d/common-auth"] and len(lines) == 2
    assert effective(settings, lines[0], "deny") == settings["deny"]
    override = effective(settings, lines[1], "deny")
    assert override is not None and (override.value, override.line) == ("4", 4)
    assert gather_pam(target).stack_modules("password", "pam_pwquality.so") == ([], [])
