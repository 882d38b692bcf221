"""su restricted, shell timeout, useradd INACTIVE and system accounts without shells: each rule broken
alone fails its check, and what cannot be read is an error, never a pass."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

P, F, E, S = Status.PASS, Status.FAIL, Status.ERROR, Status.SKIP
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\nsync:x:4:65534:sync:/bin:/bin/sync\n"
    "bob:x:1000:1000::/home/bob:/bin/bash\n"
)
GROUP = "root:x:0:\nsugroup:x:999:\nbob:x:1000:\n"
SU_OK = (
    "auth sufficient pam_rootok.so\nauth required pam_wheel.so use_uid group=sugroup\n@include common-auth\n"
)


def root(tmp_path: Path, files: dict[str, str | None]) -> Path:
    base = {
        "etc/passwd": PASSWD,
        "etc/group": GROUP,
        "etc/shells": "/bin/sh\n/bin/bash\n/usr/sbin/nologin\n",
        "etc/login.defs": "UID_MIN 1000\n",
    }
    for path, text in {**base, **files}.items():
        if text is None:
            continue
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("su", "group", "expected"),
    [
        (SU_OK, GROUP, P),
        (SU_OK.replace("required", "requisite"), GROUP, P),
        (None, GROUP, S),  # no /etc/pam.d/su: su does not use PAM (or is not there)
        ("auth sufficient pam_rootok.so\n# auth required pam_wheel.so use_uid group=sugroup\n", GROUP, F),
        (SU_OK.replace("required pam_wheel", "optional pam_wheel"), GROUP, F),
        (SU_OK.replace("use_uid ", ""), GROUP, F),
        (SU_OK.replace(" group=sugroup", ""), GROUP, F),  # admits wheel or gid 0
        (SU_OK, GROUP.replace("sugroup:x:999:", "sugroup:x:999:bob"), F),
        (SU_OK, GROUP.replace("sugroup:x:999:", "other:x:999:"), F),  # the group is not there
        # pam_wheel's flags that open it again (pam_wheel(8)):
        (SU_OK.replace("use_uid", "use_uid deny"), GROUP, F),  # refuses the (empty) group, admits the rest
        (SU_OK.replace("use_uid", "use_uid root_only"), GROUP, F),  # su to other accounts stays open
        (SU_OK.replace("use_uid", "use_uid trust debug"), GROUP, P),
        # read as libpam reads the file: continued lines, case-insensitive types and controls
        (SU_OK.replace("use_uid ", "use_uid \\\n  "), GROUP, P),
        (SU_OK.replace("use_uid ", "use_uid \\\n\n  "), GROUP, E),  # PAM 1.5 and 1.6 read it differently
        (SU_OK.replace("use_uid ", "use_uid \\\n# x\n  "), GROUP, E),
        (SU_OK.replace("use_uid ", "use_uid # \\\n "), GROUP, F),  # a comment ends the line: no group=
        (SU_OK.replace("auth required pam_wheel", "AUTH Required pam_wheel"), GROUP, P),
        # a line before pam_wheel through which a caller leaves with success never reaches it:
        ("auth sufficient pam_unix.so\n" + SU_OK, GROUP, F),
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success=1 default=ignore] pam_unix.so\nauth required pam_wheel",
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success=done default=ignore] pam_unix.so\nauth required pam_wheel",
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n"
                "auth required pam_wheel",
            ),
            GROUP,
            P,
        ),
        ("auth [success=done ignore=ignore default=die] pam_rootok.so\n" + SU_OK, GROUP, P),  # root only
        # found by the red-team, each confirmed against libpam 1.5.2 (pam_authenticate as a non-member):
        (SU_OK.replace("group=sugroup", "group=sugroup [deny]"), GROUP, F),  # a bracketed argument is one
        (SU_OK.replace("group=sugroup", "[x group=sugroup y]"), GROUP, F),  # ...so no group= is seen
        (
            "auth [success=ok default=1] pam_rootok.so\n" + SU_OK.split("\n", 1)[1],
            GROUP,
            F,
        ),  # skips pam_wheel
        (SU_OK.replace("@include", "auth [default=reset] pam_permit.so\n@include"), GROUP, F),  # forgets it
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success = done default=ignore] pam_unix.so\nauth required pam_wheel",
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel", "auth [success=done]pam_unix.so\nauth required pam_wheel"
            ),
            GROUP,
            F,
        ),
        (SU_OK, GROUP + "admins:x:999:bob\n", F),  # a second group with sugroup's gid has a member
        # the second red-team, each confirmed against libpam 1.5.2: actions need no space between them
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success=donedefault=ignore] pam_permit.so\nauth required pam_wheel",
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel",
                "auth [success=1default=ignore] pam_permit.so\nauth required pam_wheel",
            ),
            GROUP,
            F,
        ),
        (SU_OK.replace("@include", "auth [default=ignoresuccess=reset] pam_permit.so\n@include"), GROUP, F),
        (
            SU_OK.replace(
                "auth required pam_wheel", "auth [success=DONE] pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            P,
        ),  # all bad
        (
            SU_OK.replace(
                "auth required pam_wheel", "auth [success=\u00b2] pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            P,
        ),  # no crash
        # a line of 1023 bytes or more: libpam 1.5 reads the rest as a line of its own
        (
            "auth sufficient pam_rootok.so\nauth optional pam_permit.so "
            + "x" * 1000
            + " auth sufficient pam_permit.so\n"
            + SU_OK,
            GROUP,
            E,
        ),
        # the third red-team, each confirmed against libpam 1.5.2: a control without brackets is actions
        # too, [sufficient] is the keyword, lines libpam installs to fail keep their actions, and a jump
        # number wraps in a C int (4294967291 is -5, reset)
        (
            SU_OK.replace(
                "auth required pam_wheel", "auth success=done pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel", "auth [sufficient] pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel", "xauth [default=1] pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            F,
        ),
        (SU_OK.replace("auth required pam_wheel", "auth [default=1]\nauth required pam_wheel"), GROUP, F),
        (
            SU_OK.replace(
                "auth required pam_wheel", "--auth [default=1] pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            F,
        ),
        (
            SU_OK.replace("@include", "auth [success=4294967291 default=ignore] pam_permit.so\n@include"),
            GROUP,
            F,
        ),
        (
            SU_OK.replace(
                "auth required pam_wheel", "xauth sufficient pam_permit.so\nauth required pam_wheel"
            ),
            GROUP,
            P,
        ),  # it fails
        (SU_OK.replace("auth required pam_wheel", "auth [Required] pam_wheel"), GROUP, P),
        # a backslash before CR LF continues nothing (CR is not white space to libpam)
        (
            "auth sufficient pam_rootok.so\nauth optional pam_permit.so \\\r\nauth sufficient pam_permit.so\n"
            + SU_OK,
            GROUP,
            F,
        ),
        (
            SU_OK.replace("@include", "auth [success=done default=ignore] pam_unix.so\n@include"),
            GROUP,
            P,
        ),  # after: no bypass
    ],
)
def test_su_restricted(tmp_path: Path, su: str | None, group: str, expected: Status) -> None:
    assert statuses(root(tmp_path, {"etc/pam.d/su": su, "etc/group": group}), ["su-restricted"]) == {
        "su-restricted": expected
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # an include puts its lines in place: a sufficient module in it comes before pam_wheel
        (
            {
                "etc/pam.d/su": "@include common-auth\n" + SU_OK,
                "etc/pam.d/common-auth": "auth sufficient pam_unix.so\n",
            },
            F,
        ),
        (
            {
                "etc/pam.d/su": "auth include base\n" + SU_OK,
                "etc/pam.d/base": "Auth Sufficient pam_unix.so\n",
            },
            F,
        ),
        ({"etc/pam.d/su": "auth include /etc/pam.d/base\n", "etc/pam.d/base": SU_OK}, P),
        (
            {
                "etc/pam.d/su": "@include common-auth\n" + SU_OK,
                "etc/pam.d/common-auth": "auth required pam_unix.so\n",
            },
            P,
        ),
        ({"etc/pam.d/su": "auth include loop\n", "etc/pam.d/loop": "auth include loop\n"}, E),
        ({"etc/pam.d/su": "auth substack wheel\n", "etc/pam.d/wheel": SU_OK}, E),  # not looked into
        # su without a file of its own runs /etc/pam.d/other (pam.d(5))
        (
            {
                "usr/bin/su": "",
                "etc/pam.d/other": "@include common-auth\n",
                "etc/pam.d/common-auth": "auth required pam_unix.so\n",
            },
            F,
        ),
        ({"usr/bin/su": "", "etc/pam.d/other": SU_OK}, P),
        ({"usr/bin/su": "", "etc/pam.d/login": ""}, E),  # neither su nor other: not judged
        ({"usr/bin/su": ""}, S),  # no /etc/pam.d: su does not use Linux-PAM
        (
            {"usr/bin/su": "", "etc/pam.conf": "su auth sufficient pam_permit.so\n"},
            E,
        ),  # libpam reads pam.conf
        (
            {
                "etc/pam.d/su": "@include common-auth\n" + SU_OK,
                "etc/pam.d/common-auth": "auth [success=reset] pam_permit.so\n",
            },
            F,  # SU_OK includes common-auth again, after pam_wheel: the reset forgets it
        ),
        (
            {
                "etc/pam.d/su": SU_OK.replace("@include common-auth", "@include tail"),
                "etc/pam.d/tail": "auth [default=reset] pam_permit.so\n",
            },
            F,
        ),
    ],
)
def test_su_restricted_on_the_stack_libpam_runs(
    tmp_path: Path, files: dict[str, str], expected: Status
) -> None:
    assert statuses(root(tmp_path, files), ["su-restricted"]) == {"su-restricted": expected}


def test_su_restricted_unreadable_include_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc/pam.d/common-auth").mkdir(parents=True)
    files = {"etc/pam.d/su": "@include common-auth\n" + SU_OK}
    assert statuses(root(tmp_path, files), ["su-restricted"]) == {"su-restricted": E}


def test_su_stack_a_long_continued_line_is_joined_in_linear_time(tmp_path: Path) -> None:
    hostile = "auth required pam_wheel.so use_uid group=sugroup x" + "a\\\n" * 1_000_000 + "b\n"
    started = time.monotonic()  # longer than libpam 1.5's 1023-byte buffer: not judged, and quickly
    assert statuses(root(tmp_path, {"etc/pam.d/su": hostile}), ["su-restricted"]) == {"su-restricted": E}
    assert time.monotonic() - started < 5


def test_su_stack_a_huge_bracket_is_read_in_linear_time(tmp_path: Path) -> None:
    hostile = "auth [" + "x=1 " * 200_000 + "\n" + SU_OK
    started = time.monotonic()
    assert statuses(root(tmp_path, {"etc/pam.d/su": hostile}), ["su-restricted"]) == {"su-restricted": E}
    assert time.monotonic() - started < 5


def test_su_group_that_is_someones_primary_group_is_not_empty(tmp_path: Path) -> None:
    passwd = PASSWD + "ops:x:1001:999::/home/ops:/bin/bash\n"
    result = statuses(root(tmp_path, {"etc/pam.d/su": SU_OK, "etc/passwd": passwd}), ["su-restricted"])
    assert result == {"su-restricted": F}


@pytest.mark.parametrize(
    ("profile", "profile_d", "expected"),
    [
        (None, "TMOUT=900\nreadonly TMOUT\nexport TMOUT\n", P),
        ("declare -xr TMOUT=600\n", None, P),
        ("readonly TMOUT=900\n", "export TMOUT\n", P),
        (None, None, F),
        (None, "TMOUT=900\nexport TMOUT\n", F),  # not readonly
        (None, "TMOUT=900\nreadonly TMOUT\n", F),  # not exported
        (None, "declare -xr TMOUT=901\n", F),
        (None, "declare -xr TMOUT=0\n", F),  # 0 turns the timeout off
        ("declare -xr TMOUT=900\n", "TMOUT=3600\n", F),  # a later, longer one
        (None, "declare -xr TMOUT=$LIMIT\n", F),  # not a number imagevet can judge
        # real bash 5.2 ends these with no working TMOUT (the red-team of 2026-12-06):
        (None, "TMOUT=900\nexport TMOUT\nunset TMOUT\nreadonly TMOUT\n", F),
        (None, "readonly TMOUT\nexport TMOUT\nTMOUT=900\n", F),  # the assignment fails
        (None, "TMOUT=900\nreadonly TMOUT\nexport TMOUT\nexport -n TMOUT\n", F),
        (None, "TMOUT=900\r\nreadonly TMOUT\r\nexport TMOUT\r\n", F),
        ("readonly TMOUT=900\n", "unset TMOUT\nexport TMOUT\n", P),  # unset of a readonly fails
        (None, 'if [ -n "$PS1" ]; then\n  TMOUT=900; readonly TMOUT; export TMOUT\nfi\n', E),
        (None, "f() { TMOUT=900; readonly TMOUT; export TMOUT; }\n", E),
        (None, "cat >/dev/null <<EOF\nTMOUT=900\nreadonly TMOUT\nexport TMOUT\nEOF\n", E),
        ("if true; then TMOUT=900; fi\n", "TMOUT=3600\n", F),  # a definite failure wins over the undecided
    ],
)
def test_shell_timeout(tmp_path: Path, profile: str | None, profile_d: str | None, expected: Status) -> None:
    files = {"etc/profile": profile, "etc/profile.d/tmout.sh": profile_d}
    assert statuses(root(tmp_path, files), ["shell-timeout"]) == {"shell-timeout": expected}


def test_shell_timeout_unreadable_profile_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc/profile.d/tmout.sh").mkdir(parents=True)
    assert statuses(root(tmp_path, {}), ["shell-timeout"]) == {"shell-timeout": E}


@pytest.mark.parametrize(
    ("useradd", "expected"),
    [
        ("INACTIVE=30\n", P),
        ("INACTIVE=0\n", P),
        ("INACTIVE=45\n", P),
        ("INACTIVE=46\n", F),
        ("INACTIVE=-1\n", F),
        ("# INACTIVE=30\n", F),
        ("INACTIVE=thirty\n", F),
        # useradd ignores each of these ("invalid numeric argument", or the line is not read) and keeps -1:
        ("INACTIVE=45   \n", F),
        ('INACTIVE="30"\n', F),
        ("  INACTIVE=30\n", F),
        ("INACTIVE = 30\n", F),
        ("INACTIVE=30 # days\n", F),
        ("INACTIVE=30\r\n", F),
        ("INACTIVE=60\nINACTIVE=30\n", P),  # the last one is kept
        (None, F),  # no file: useradd's built-in -1
    ],
)
def test_password_inactive(tmp_path: Path, useradd: str | None, expected: Status) -> None:
    result = statuses(root(tmp_path, {"etc/default/useradd": useradd}), ["password-inactive"])
    assert result == {"password-inactive": expected}


def test_password_inactive_unreadable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc/default/useradd").mkdir(parents=True)
    assert statuses(root(tmp_path, {}), ["password-inactive"]) == {"password-inactive": E}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, P),  # root and sync are allowed; bob is a user (uid >= UID_MIN)
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/bin/bash\n"}, F),
        ({"etc/passwd": PASSWD + "nobody:x:65534:65534::/nonexistent:/bin/sh\n"}, F),  # nobody counts
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/usr/sbin/nologin\n"}, P),
        # login and sshd run the shell whether /etc/shells lists it or not, and an empty field is /bin/sh:
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/bin/zsh\n"}, F),
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:\n"}, F),
        # any program but nologin and false runs at login (found by the red-team): a tool, a python, a
        # link to bash, and a field with a space, which util-linux login runs with /bin/sh -c
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/opt/tool/run\n"}, F),
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/usr/bin/python3\n"}, F),
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/bin/bash -l #/usr/sbin/nologin\n"}, F),
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/sbin/nologin\n"}, P),
        ({"etc/passwd": PASSWD + "svc:x:998:998::/srv:/bin/false\n"}, P),
        (
            {
                "etc/passwd": PASSWD + "svc:x:998:998::/srv:/opt/tool/run\n",
                "etc/shells": "/opt/tool/run # x\n",
            },
            F,
        ),
        ({"etc/login.defs": "UID_MIN 0\n"}, E),  # every account a user: nothing would be judged
        ({"etc/login.defs": "UID_MIN 2000\n"}, F),  # bob is then a system account with bash
        ({"etc/login.defs": "# no UID_MIN\n"}, P),  # shadow's default, 1000
        ({"etc/login.defs": "UID_MIN lots\n"}, E),
        ({"etc/shells": None}, E),
        ({"etc/passwd": PASSWD + "broken line\n"}, E),
    ],
)
def test_system_accounts_no_shell(tmp_path: Path, files: dict[str, str | None], expected: Status) -> None:
    result = statuses(root(tmp_path, files), ["accounts-system-no-shell"])
    assert result == {"accounts-system-no-shell": expected}


def test_an_unreadable_pam_stack_file_is_an_error_not_an_absent_stack(tmp_path: Path) -> None:
    """A stack file that is there but cannot be read was once skipped as if the image had no PAM."""
    (tmp_path / "etc/pam.d").mkdir(parents=True)
    (tmp_path / "etc/pam.d/common-password").symlink_to("common-password")  # a loop: there, not readable
    (tmp_path / "etc/pam.d/common-auth").write_text("auth required pam_faillock.so deny=3\n")
    checks = ["password-quality", "password-history-enabled", "account-lockout"]
    assert statuses(root(tmp_path, {}), checks) == dict.fromkeys(checks, E)


def test_su_stack_many_wheel_lines_and_includes_are_judged_in_linear_time(tmp_path: Path) -> None:
    wheels = "auth required pam_wheel.so use_uid group=sugroup\n" * 8000
    started = time.monotonic()
    assert statuses(root(tmp_path / "a", {"etc/pam.d/su": wheels}), ["su-restricted"]) == {"su-restricted": P}
    included = {
        "etc/pam.d/su": "@include common-auth\n" * 1000,
        "etc/pam.d/common-auth": "auth required pam_unix.so\n" * 3700,
    }
    assert statuses(root(tmp_path / "b", included), ["su-restricted"]) == {
        "su-restricted": E
    }  # over 10,000 lines
    assert time.monotonic() - started < 10


def test_shells_are_judged_by_the_program_their_links_reach(tmp_path: Path) -> None:
    """A link named nologin that points at bash runs bash (found by the second red-team)."""
    base = root(tmp_path, {"etc/passwd": PASSWD + "svc:x:5:5::/srv:/usr/local/bin/nologin\n", "bin/bash": ""})
    (base / "usr/local/bin").mkdir(parents=True)
    (base / "usr/local/bin/nologin").symlink_to("/bin/bash")
    assert statuses(base, ["accounts-system-no-shell"]) == {"accounts-system-no-shell": F}
    (base / "usr/local/bin/nologin").unlink()
    (base / "usr/local/bin/nologin").symlink_to("/usr/sbin/nologin")
    assert statuses(base, ["accounts-system-no-shell"]) == {"accounts-system-no-shell": P}


def test_a_multi_call_binary_runs_the_applet_its_link_is_named_after(tmp_path: Path) -> None:
    """Alpine's /bin/false is a link to busybox, which then runs false (the third red-team)."""
    base = root(tmp_path, {"etc/passwd": PASSWD + "bin:x:1:1:bin:/bin:/bin/false\n", "bin/busybox": ""})
    (base / "bin/false").symlink_to("busybox")
    assert statuses(base, ["accounts-system-no-shell"]) == {"accounts-system-no-shell": P}
    (base / "bin/ash").symlink_to("busybox")
    (base / "etc/passwd").write_text(PASSWD + "bin:x:1:1:bin:/bin:/bin/ash\n")
    assert statuses(base, ["accounts-system-no-shell"]) == {"accounts-system-no-shell": F}
