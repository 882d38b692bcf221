"""Hostile and broken passwd/shadow files, tried through ``imagevet audit`` as a user runs it.

A shadow that exists in any form but cannot be read (a link loop, a FIFO, a dangling link, binary or
non-UTF-8 bytes, a directory) makes every account check ``error`` with no evidence at all: nothing may
suggest a state the audit could not read. Duplicates are judged by the first entry, as glibc does.
Fixtures are written here; hashes come from openssl (``openssl passwd -6 -salt imagevet6 root``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_imagevet

CHECKS = ("accounts-root-locked", "accounts-empty-password", "accounts-default-password")
ROOT_HASH = (
    "$6$imagevet6$Lo/mU2m/b7My9BbVCdDdr/SLqPDb7UtMpp/7yvVB6vr34wMbkGAzElg2pcqcCg1ak9uBdUJhVHgzv7GTXIJJp."
)
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n"


def audit(root: Path) -> dict[str, dict[str, object]]:
    proc = run_imagevet(
        "audit", str(root), "--checks", ",".join(CHECKS), "--format", "json", "--fail-on", "never"
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return {r["check"]: r for r in json.loads(proc.stdout)["results"]}


def make(root: Path, shadow: Callable[[Path], object] | None = None, passwd: str = PASSWD) -> Path:
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_text(passwd)
    if shadow is not None:
        shadow(root / "etc/shadow")
    return root


UNREADABLE: dict[str, Callable[[Path], object]] = {
    "link_loop": lambda p: os.symlink("shadow", p),
    "dangling_link": lambda p: os.symlink("/nonexistent/shadow", p),
    "fifo": lambda p: os.mkfifo(p),
    "directory": lambda p: p.mkdir(),
    "binary": lambda p: p.write_bytes(b"root:\0\0\0:19000::::::\n"),
    "not_utf8": lambda p: p.write_bytes(b"root:\xff\xfe:19000:0:99999:7:::\n"),
    "too_large": lambda p: p.write_bytes(b"#" * (5 * 1024 * 1024)),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_shadow_gives_error_and_no_evidence(case: str, tmp_path: Path) -> None:
    results = audit(make(tmp_path, UNREADABLE[case]))
    for check in CHECKS:
        result = results[check]
        assert result["status"] == "error", (check, result)
        details = " ".join(str(e["detail"]) for e in result["evidence"])  # type: ignore[union-attr]
        assert "/etc/shadow" in details
        assert "locked" not in details and "usable" not in details and "none of" not in details


def test_first_shadow_entry_wins(tmp_path: Path) -> None:
    """root's usable default hash first, a locked entry after it: glibc uses the first, so does the
    audit (the last-wins reading would have passed root as locked)."""
    shadow = f"root:{ROOT_HASH}:19000:0:99999:7:::\nroot:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
    results = audit(make(tmp_path, lambda p: p.write_text(shadow)))
    locked = results["accounts-root-locked"]
    assert locked["status"] == "fail"
    lines = [(e["detail"], e["line"]) for e in locked["evidence"]]  # type: ignore[union-attr]
    assert lines[0] == ("root has a usable sha512crypt password hash", 1)
    assert any(line == 2 and "later root entry" in str(detail) for detail, line in lines)
    assert results["accounts-default-password"]["status"] == "fail"


def test_first_passwd_entry_wins(tmp_path: Path) -> None:
    """A second root line with an empty password is never used by glibc: root is judged by the first."""
    passwd = "root:x:0:0::/root:/bin/sh\nroot::0:0::/root:/bin/sh\n"
    results = audit(make(tmp_path, lambda p: p.write_text("root:!:19000:0:99999:7:::\n"), passwd))
    assert results["accounts-root-locked"]["status"] == "pass"
    assert results["accounts-empty-password"]["status"] == "pass"


def test_a_line_glibc_skips_does_not_hide_the_next(tmp_path: Path) -> None:
    """A malformed first root line (uid not a number) does not exist for glibc: the empty-password line
    after it is root's."""
    passwd = "root:x:zero:0::/root:/bin/sh\nroot::0:0::/root:/bin/sh\n"
    results = audit(make(tmp_path, lambda p: p.write_text("root:!:19000:0:99999:7:::\n"), passwd))
    assert results["accounts-root-locked"]["status"] == "fail"
    assert results["accounts-empty-password"]["status"] == "fail"


def test_unicode_line_separator_is_not_a_line_break(tmp_path: Path) -> None:
    """U+2028 inside a line: glibc reads one line (daemon's), so the locked 'root' after it is not root's
    entry; root's real entry on the next line has a usable hash."""
    shadow = f"daemon:*:19000:0:99999:7:::\u2028root:!:1::::::\nroot:{ROOT_HASH}:19000:0:99999:7:::\n"
    results = audit(make(tmp_path, lambda p: p.write_text(shadow)))
    assert results["accounts-root-locked"]["status"] == "fail"


def test_missing_shadow_with_x_says_nothing_unlocks(tmp_path: Path) -> None:
    results = audit(make(tmp_path))
    locked = results["accounts-root-locked"]
    assert locked["status"] == "pass"
    (evidence,) = locked["evidence"]  # type: ignore[misc]
    assert "no entry" in evidence["detail"] and "usable" not in evidence["detail"]


def test_unreadable_passwd_is_error(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.symlink("passwd", tmp_path / "etc/passwd")
    results = audit(tmp_path)
    assert all(results[c]["status"] == "error" for c in CHECKS)


COSTLY = {
    "sha512_rounds": "$6$rounds=999999999$saltsalt$" + "x" * 86,
    "bcrypt_cost_31": "$2b$31$" + "a" * 53,
    "yescrypt_huge_n": "$y$jzT$abcdefgh$" + "x" * 43,
    "yescrypt_extra_params": "$y$j9T.....$abcdefgh$" + "x" * 43,
    "scrypt_huge_n": "$7$z6..../....salt$" + "x" * 43,
    "bsdi_extended_des": "_zzzzsaltxxxxxxxxxxx",
}


@pytest.mark.parametrize("case", sorted(COSTLY))
def test_costly_hash_is_undecided_quickly(case: str, tmp_path: Path) -> None:
    """A hash whose own parameters would make each guess take minutes (or exhaust memory) is not tried:
    the default-password check is error naming the account, within seconds."""
    import time

    shadow = f"root:!:19000:0:99999:7:::\ndaemon:{COSTLY[case]}:19000:0:99999:7:::\n"
    started = time.monotonic()
    results = audit(make(tmp_path, lambda p: p.write_text(shadow)))
    assert time.monotonic() - started < 10
    result = results["accounts-default-password"]
    assert result["status"] == "error", result
    assert "daemon" in result["evidence"][0]["detail"] and "cost" in result["evidence"][0]["detail"]


def test_thousands_of_hashed_accounts_are_bounded(tmp_path: Path) -> None:
    """Each default-cost yescrypt account costs 17 guesses of about 20 ms: 5000 of them would take half an
    hour. Work stops at the budget and the check is error, not a pass over the accounts it reached."""
    import time

    yescrypt = "$y$j9T$imagevet$" + "x" * 43
    passwd = PASSWD + "".join(f"user{i}:x:{1000 + i}:100::/:/bin/sh\n" for i in range(5000))
    shadow = "root:!:19000:0:99999:7:::\n" + "".join(
        f"user{i}:{yescrypt}:19000:0:99999:7:::\n" for i in range(5000)
    )
    started = time.monotonic()
    results = audit(make(tmp_path, lambda p: p.write_text(shadow), passwd))
    assert time.monotonic() - started < 20
    assert results["accounts-default-password"]["status"] == "error"
