"""Our passwd/shadow reader against glibc itself: fgetpwent(3) and fgetspent(3) use the same line reader
and line parsers as the files backend behind getpwnam/getspnam (nss_files), so the entries they return,
in order, are what the system works with; getpwnam is the first of them with the name.

Cases are lines that differ between naive readers and glibc, and a property-based differential test
over generated files (bounded: 200 examples).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagevet.facts.accounts import merge_accounts, passwd_entries, shadow_entries

pytestmark = pytest.mark.real


class Passwd(ctypes.Structure):
    _fields_ = [
        ("pw_name", ctypes.c_char_p),
        ("pw_passwd", ctypes.c_char_p),
        ("pw_uid", ctypes.c_uint32),
        ("pw_gid", ctypes.c_uint32),
        ("pw_gecos", ctypes.c_char_p),
        ("pw_dir", ctypes.c_char_p),
        ("pw_shell", ctypes.c_char_p),
    ]


class Spwd(ctypes.Structure):
    _fields_ = [
        ("sp_namp", ctypes.c_char_p),
        ("sp_pwdp", ctypes.c_char_p),
        *[(name, ctypes.c_long) for name in ("lstchg", "min", "max", "warn", "inact", "expire")],
        ("sp_flag", ctypes.c_ulong),
    ]


LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
LIBC.fopen.restype = ctypes.c_void_p
LIBC.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
LIBC.fclose.argtypes = [ctypes.c_void_p]
LIBC.fgetpwent.restype = ctypes.POINTER(Passwd)
LIBC.fgetpwent.argtypes = [ctypes.c_void_p]
LIBC.fgetspent.restype = ctypes.POINTER(Spwd)
LIBC.fgetspent.argtypes = [ctypes.c_void_p]


def _glibc(text: str, shadow: bool) -> list[tuple[str, ...]]:
    with tempfile.NamedTemporaryFile("wb", delete=False) as handle:
        handle.write(text.encode())
    try:
        stream = LIBC.fopen(handle.name.encode(), b"r")
        assert stream
        entries: list[tuple[str, ...]] = []
        try:
            while True:
                if shadow:
                    sp = LIBC.fgetspent(stream)
                    if not sp:
                        break
                    entries.append(
                        (
                            sp.contents.sp_namp.decode("utf-8", "surrogateescape"),
                            (sp.contents.sp_pwdp or b"").decode("utf-8", "surrogateescape"),
                            str(sp.contents.lstchg),
                        )
                    )
                else:
                    pw = LIBC.fgetpwent(stream)
                    if not pw:
                        break
                    c = pw.contents
                    entries.append(
                        (
                            c.pw_name.decode("utf-8", "surrogateescape"),
                            (c.pw_passwd or b"").decode("utf-8", "surrogateescape"),
                            str(c.pw_uid),
                            (c.pw_shell or b"").decode("utf-8", "surrogateescape"),
                        )
                    )
        finally:
            LIBC.fclose(stream)
        return [e for e in entries if not e[0].startswith(("+", "-"))]
    finally:
        os.unlink(handle.name)


def ours_passwd(text: str) -> list[tuple[str, ...]]:
    return [(e.name, e.password, str(e.uid), e.shell) for e in passwd_entries(text)]


def ours_shadow(text: str) -> list[tuple[str, ...]]:
    return [(e.name, e.password, str(e.last_change)) for e in shadow_entries(text)]


PASSWD_CASES = [
    "root:x:0:0:root:/root:/bin/bash\n",
    "root:x:0:0\n",  # glibc: the last three fields may be missing
    "root:x:0\n",  # ... but not the gid
    "root:x:abc:0::/:/bin/sh\n",  # a uid that is not a number: the line does not exist for glibc
    "root:x: 0:0::/:/bin/sh\n",  # strtoul skips leading space
    "root:x:+0:-0::/:/bin/sh\n",
    "root:x:-1:0::/:/bin/sh\n",
    "root:x:99999999999999999999:0::/:/bin/sh\n",
    "root:x:0x0:0::/:/bin/sh\n",
    "root:x:0:0::/:/bin/sh:extra:colons\n",  # the shell is the rest of the line
    "   root::0:0::/:/bin/sh\n",  # leading white space is skipped
    "\t# comment\nroot::0:0::/:/bin/sh\n",
    "root::0:0::/:/bin/sh\r\n",  # \r belongs to the shell
    "nobody:x:65534:65534::/:/bin/false\u2028root::0:0::/:/bin/sh\n",  # U+2028 is no line end for glibc
    "daemon:x:1:1::/:/bin/false\x85root::0:0::/:/bin/sh\n",
    "+::::::\n-bad\n+root::0:0::/:/bin/sh\nroot:x:0:0::/:/bin/sh\n",
    "root\n",
    ":x:0:0::/:/bin/sh\n",
    "root:x:0:0::/:/bin/sh",  # no final newline
    "  root:x:0:0::/:/bin/sh",  # ... and indented: glibc reads the shell as /bin/shsh
    " root:x:0:0::/:/bin/\u2028",  # ... one byte of a three-byte character repeated
]
SHADOW_CASES = [
    "root:!:19000:0:99999:7:::\n",
    "root:*:::::::\n",
    "root:pw\n",  # too few fields: glibc skips the line
    "root:pw:\n",
    "root:pw::\n",
    "root:pw:::\n",  # the old five-field form
    "root:pw:1:2:3\n",
    "root:pw:1:2:3:4\n",  # six fields: skipped
    "root:pw:1:2:3:4:5\n",  # seven: skipped
    "root:pw:1:2:3:4:5:6\n",
    "root:pw:1:2:3:4:5:6:7\n",
    "root:pw:1:2:3:4:5:6:x\n",  # a bad flag
    "root:pw:x:::::::\n",  # a date that is not a number
    "root:pw:1:2:3:   \n",  # trailing blanks after max
    "root:pw: 1:2:3\n",
    "root:pw:99999999999999999999:0:0\n",
    "root:pw:-1:0:0\n",
    "root:pw:4294967296:0:0\n",
    "root:pw:4294967295:0:0\n",
    "root:pw:2147483647:0:0\n",  # the last day a change date can name
    "root:pw:2147483648:0:0\n",  # (int) of it: a day before 1970
    "root:pw:+30000:0:0\n",
    "root:pw:-0:0:0\n",
    "root:pw:1:2:3:4:5:6:-1\n",
    "  root:pw:::\n",
    "daemon:*:::::::\u2028root::::::::\n",
    " root:pw:::",  # glibc's memmove repeats the last character of an unterminated, indented last line
    " root:pw::::",
    "root:pw:1:2:3:4:5:6::\n",  # the flag must end the line
    "root:pw:1:2:3:4:5:6:7:\n",
    "root:pw:1:2:3:4:5:6:7 \n",
    " -\x85",  # the repeated tail is a byte: half of U+0085's two (found by hypothesis, 2026-12-07)
]


@pytest.mark.parametrize("text", PASSWD_CASES)
def test_passwd_lines_like_glibc(text: str) -> None:
    assert ours_passwd(text) == _glibc(text, shadow=False)


@pytest.mark.parametrize("text", SHADOW_CASES)
def test_shadow_lines_like_glibc(text: str) -> None:
    assert ours_shadow(text) == _glibc(text, shadow=True)


FIELD = st.text(
    alphabet=st.sampled_from(list("rot0129x!*$: -+#\t\r\v\u2028\x85ab")), max_size=8
) | st.sampled_from(["4294967295", "4294967296", "-0", "+7", " 12", "99999999999999999999"])
LINE = st.lists(FIELD, min_size=1, max_size=10).map(":".join)
FILE = st.lists(LINE, max_size=6).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(FILE)
def test_passwd_differential(text: str) -> None:
    assert ours_passwd(text) == _glibc(text, shadow=False)


@settings(max_examples=200, deadline=None)
@given(FILE)
def test_shadow_differential(text: str) -> None:
    assert ours_shadow(text) == _glibc(text, shadow=True)


def test_first_entry_wins_as_getpwnam() -> None:
    """A hidden finding: shadow holds root's real, usable hash first and a locked entry after it; glibc
    (so PAM) uses the first. Reading the last one would call root locked."""
    passwd = "root:x:0:0::/root:/bin/sh\nroot::0:0::/:/bin/sh\n"
    shadow = "root:$6$salt$hash:19000:0:99999:7:::\nroot:!:19000:0:99999:7:::\n"
    (root,) = merge_accounts(passwd, shadow)
    assert (root.password, root.path, root.line) == ("$6$salt$hash", "/etc/shadow", 1)
    assert root.has_usable_hash
