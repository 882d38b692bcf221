"""Property-based fuzzing of the configuration readers (hypothesis, bounded for CI): os-release, sshd,
sysctl, accounts. Whatever the text: a value, Unknown, or the project's own error, never another
exception, within a time and memory bound. sshd is also fuzzed differentially against the real
``sshd -T`` on generated configurations, and the account checks' evidence against their verdicts.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagevet.checks.accounts import root_locked
from imagevet.checks.base import CheckOptions
from imagevet.errors import ImagevetError
from imagevet.facts.accounts import Accounts, merge_accounts
from imagevet.facts.os_release import os_release_from_values, parse_os_release
from imagevet.facts.sshd import SshdConfig, parse_sshd_config
from imagevet.facts.sysctl import SysctlConfig, apply_file
from imagevet.model import OsRelease, Status, Unknown

T = TypeVar("T")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.text(max_size=400)


def bounded(call: Callable[[], T], seconds: float = 1.0, megabytes: float = 64) -> T:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        return call()
    except ImagevetError:
        raise
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < seconds, f"{elapsed:.2f} s"
        assert peak < megabytes * 1024 * 1024, f"{peak / 1e6:.1f} MB"


# ---- os-release -------------------------------------------------------------------------------------
OS_LINES = st.lists(
    st.tuples(
        st.sampled_from(
            ["ID", "ID_LIKE", "VERSION_ID", "NAME", "PRETTY_NAME", "BAD KEY", "#ID", " ID", "ÏD"]
        ),
        st.sampled_from(["=", " = ", "", "=="]),
        st.sampled_from(
            ["debian", '"rhel fedora"', "'a", '"unterminated', "a\\ b", "$(x)", "\\", "\u2028x", ""]
        ),
    ),
    max_size=8,
).map(lambda lines: "\n".join(k + s + v for k, s, v in lines))


@FUZZ
@given(OS_LINES | ANY_TEXT)
def test_os_release_never_raises(text: str) -> None:
    result = bounded(lambda: os_release_from_values(parse_os_release(text), "/etc/os-release"))
    assert isinstance(result, OsRelease | Unknown)


# ---- sysctl -----------------------------------------------------------------------------------------
SYSCTL_LINES = st.lists(
    st.sampled_from(
        [
            "net.ipv4.ip_forward = 1",
            "-net.ipv4.conf.*.rp_filter",
            "net/ipv4/conf/all/rp_filter=2",
            "vm.swappiness",
            "# c",
            "; c",
            "-",
            "=",
            "net.ipv4.conf.*.rp_filter = 1",
            "[x = 1",
            "kernel.randomize_va_space = 2\xa0",
            "a\x85b = 1",
            " = ",
        ]
    ),
    max_size=12,
).map("\n".join)


@FUZZ
@given(
    SYSCTL_LINES | ANY_TEXT, st.sampled_from(["net.ipv4.conf.all.rp_filter", "vm.swappiness", "[", "a/b.c"])
)
def test_sysctl_never_raises(text: str, key: str) -> None:
    config = SysctlConfig()
    bounded(lambda: apply_file(config, "/etc/sysctl.d/fuzz.conf", text))
    assert config.get(key) is not None


def test_sysctl_value_keeps_non_breaking_space() -> None:
    """systemd strips only " \\t\\n\\r": a value ending in U+00A0 is not "2" (the kernel would refuse it)."""
    config = SysctlConfig()
    apply_file(config, "/etc/sysctl.d/x.conf", "kernel.randomize_va_space = 2\xa0\n")
    got = config.get("kernel.randomize_va_space")
    assert not isinstance(got, Unknown) and got.value == "2\xa0"


# ---- sshd -------------------------------------------------------------------------------------------
KEYWORDS = [
    "PasswordAuthentication",
    "PermitRootLogin",
    "UsePAM",
    "KbdInteractiveAuthentication",
    "MaxAuthTries",
    "LoginGraceTime",
    "Ciphers",
    "AcceptEnv",
    "SetEnv",
    "Match",
    "Include",
    "Bogus",
    "port",
    "PermitEmptyPasswords",
    "LogLevel",
    "X11Forwarding",
]
ARGS = [
    "yes",
    "no",
    "Yes",
    "prohibit-password",
    "without-password",
    "3",
    "-1",
    "1h30m",
    "2x",
    "all",
    "User bob",
    "+aes128-ctr",
    "-aes*",
    "^chacha20-poly1305@openssh.com",
    '"quoted value"',
    "'a",
    "#c",
    "a.conf",
    "*.conf",
    "/etc/ssh/loop.conf",
    "LANG LC_*",
    "A=b",
    "",
    "= yes",
    "VERBOSE",
]
SSHD_LINES = st.lists(
    st.tuples(st.sampled_from(KEYWORDS), st.sampled_from([" ", "=", " = ", "\t"]), st.sampled_from(ARGS)),
    max_size=10,
).map(lambda lines: "\n".join(k + s + a for k, s, a in lines))


def _files(main: str, included: str) -> dict[str, str]:
    return {"/etc/ssh/sshd_config": main, "/etc/ssh/a.conf": included, "/etc/ssh/loop.conf": main}


def _parse(files: dict[str, str]) -> SshdConfig:
    def read(path: str) -> str | Unknown:
        return files.get(path, Unknown(f"{path} does not exist in the image"))

    def glob(pattern: str) -> list[str]:
        import fnmatch

        return sorted(p for p in files if fnmatch.fnmatchcase(p, pattern))

    return parse_sshd_config(read, glob)


@FUZZ
@given(SSHD_LINES | ANY_TEXT, SSHD_LINES)
def test_sshd_never_raises(main: str, included: str) -> None:
    config = bounded(lambda: _parse(_files(main, included)))
    for keyword in ("passwordauthentication", "permitrootlogin", "ciphers"):
        assert isinstance(config.get(keyword).value, str)


@pytest.mark.real
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(main=SSHD_LINES, included=SSHD_LINES)
# Found by this test: sshd refuses an AcceptEnv name that is empty or holds "=" (after the one "=" that
# may separate the keyword), and a SetEnv without "=".
@example(main="AcceptEnv = = yes", included="")
@example(main='AcceptEnv ""', included="")
@example(main="SetEnv A", included="")
@example(main="SetEnv A=b\nAcceptEnv =yes", included="")
# And a comment that leaves a list keyword with no names is accepted; ForceCommand keeps its "#".
@example(main="AcceptEnv #c", included="")
@example(main="ForceCommand #c\nAllowUsers #c", included="")
@example(main="Match User bob\n  Protocol #c", included="")
def test_sshd_differential_against_sshd_t(
    main: str, included: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.facts.test_sshd_oracle import assert_agrees
    from tests.support.sshd_oracle import host_key, sshd_available

    if not sshd_available():
        pytest.skip("OpenSSH server (sshd) or unshare is not installed")
    root = tmp_path_factory.mktemp("sshd")
    key = host_key(tmp_path_factory.getbasetemp())
    for path, text in _files(main, included).items():
        full = root / path.lstrip("/")
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text + "\n")
    assert_agrees(root, key)


# ---- accounts ---------------------------------------------------------------------------------------
PW_FIELDS = st.sampled_from(["", "x", "!", "*", "!!", "$6$s$h", "$y$j9T$a$b", "!$6$s$h", "abc", "*LK*"])
PASSWD = st.lists(
    st.tuples(
        st.sampled_from(["root", "bob", " root", "+root", "root "]),
        PW_FIELDS,
        st.sampled_from(["0", "1000", "x", "-1", ""]),
    ),
    max_size=5,
).map(lambda rows: "\n".join(f"{n}:{p}:{u}:0::/:/bin/sh" for n, p, u in rows))
SHADOW = st.lists(
    st.tuples(
        st.sampled_from(["root", "bob", "root\u2028"]),
        PW_FIELDS,
        st.sampled_from([":::::::", "::", "1:0:99999:7:::", ""]),
    ),
    max_size=5,
).map(lambda rows: "\n".join(f"{n}:{p}:{rest}" for n, p, rest in rows))


class _Facts:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts


@FUZZ
@given(PASSWD | ANY_TEXT, SHADOW | ANY_TEXT | st.none())
def test_accounts_never_raise_and_evidence_matches_verdict(passwd: str, shadow: str | None) -> None:
    accounts = bounded(lambda: merge_accounts(passwd, shadow))
    names = [a.name for a in accounts]
    assert len(names) == len(set(names)), "glibc returns one entry per name"
    outcome = root_locked(_Facts(Accounts(tuple(accounts), (), ())), CheckOptions(dt.date(2026, 1, 1)))  # type: ignore[arg-type]
    detail = outcome.evidence[0].detail if outcome.evidence else ""
    says_open = "usable" in detail or "empty" in detail
    if outcome.status is Status.PASS:
        assert not says_open, detail
    elif outcome.status is Status.FAIL:
        assert says_open, detail
    else:
        assert outcome.status is Status.ERROR and "root" not in names
