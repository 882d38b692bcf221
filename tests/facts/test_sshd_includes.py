"""sshd ``Include``: expansion agrees with the real ``sshd -T`` where sshd decides, stops where sshd stops
(depth 16, every fatal error), and no configuration can make the audit spend more than a second.

Layouts are written here; the real sshd (Debian 12, OpenSSH 9.2p1) is the oracle through
tests/support/sshd_oracle.py. The worst cases are built to explode: 16-deep include chains where each
level's glob matches many files (sshd itself re-parses every inclusion, so it would take exponential
time), a huge directory under a glob, and maximal line counts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from imagevet.facts.sshd import MAX_FILE_PARSES, MAX_LINES, SshdConfig, gather_sshd
from imagevet.target import RootfsTarget
from tests.facts.test_sshd_oracle import assert_agrees, ours
from tests.support.sshd_oracle import host_key, sshd_available

LAYOUTS: dict[str, dict[str, str]] = {
    "same_file_twice": {
        "sshd_config": "Include /etc/ssh/a.conf\nInclude /etc/ssh/a.conf\nPasswordAuthentication yes\n",
        "a.conf": "PasswordAuthentication no\nAcceptEnv LANG\n",
    },
    "self_include_loop": {
        "sshd_config": "Include /etc/ssh/loop.conf\n",
        "loop.conf": "Include /etc/ssh/loop.conf\n",
    },
    "mutual_loop": {
        "sshd_config": "Include a.conf\n",
        "a.conf": "Include b.conf\n",
        "b.conf": "Include a.conf\n",
    },
    "relative_and_glob_order": {
        "sshd_config": "Include conf.d/*.conf\n",
        "conf.d/20-b.conf": "PermitRootLogin yes\n",
        "conf.d/10-a.conf": "PermitRootLogin no\n",
        "conf.d/.hidden.conf": "PasswordAuthentication no\n",
    },
    "hidden_only_with_dot_pattern": {
        "sshd_config": "Include conf.d/.*.conf\n",
        "conf.d/.hidden.conf": "PasswordAuthentication no\n",
    },
    "escaped_star": {
        "sshd_config": "Include conf.d/\\\\*.conf\n",
        "conf.d/*.conf": "PasswordAuthentication no\n",
        "conf.d/other.conf": "PermitRootLogin yes\n",
    },
    "bracket_negation": {
        "sshd_config": "Include conf.d/[!a]*.conf\n",
        "conf.d/a.conf": "PasswordAuthentication yes\n",
        "conf.d/b.conf": "PasswordAuthentication no\n",
    },
    "no_match_is_fine": {"sshd_config": "Include /etc/ssh/none/*.conf\nPasswordAuthentication no\n"},
    "include_inside_match": {
        "sshd_config": "Match User bob\nInclude /etc/ssh/m.conf\nMatch all\nPermitRootLogin no\n",
        "m.conf": "PasswordAuthentication yes\n",
    },
    "bad_option_in_include": {"sshd_config": "Include x.conf\n", "x.conf": "NoSuchOption yes\n"},
    "empty_include_argument": {"sshd_config": 'Include ""\n'},
    "unicode_separator_in_line": {
        "sshd_config": "PasswordAuthentication no\u2028PasswordAuthentication yes\n"
    },
    "bad_port": {"sshd_config": "Port yes\n"},
    "port_zero": {"sshd_config": "Port 0\nPasswordAuthentication no\n"},
    "port_plus": {"sshd_config": "Port +2222\nPasswordAuthentication no\n"},
    "bad_cipher": {"sshd_config": "Ciphers aes128-ctr,rot13\n"},
    "remove_cipher_pattern": {"sshd_config": "Ciphers -aes*,nonsense\n"},
    "match_without_argument": {"sshd_config": "Match User\n"},
    "match_all_combined": {"sshd_config": "Match all User bob\n"},
    "form_feed_in_line": {"sshd_config": "PasswordAuthentication no\x0cPermitRootLogin yes\n"},
}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not sshd_available():
        pytest.skip("OpenSSH server (sshd) or unshare is not installed")
    return host_key(tmp_path_factory.mktemp("hostkey"))


def layout(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "etc/ssh" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "usr/sbin").mkdir(parents=True, exist_ok=True)
    (root / "usr/sbin/sshd").write_bytes(b"")
    return root


@pytest.mark.real
@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_include_semantics_agree_with_sshd(case: str, key: Path, tmp_path: Path) -> None:
    assert_agrees(layout(tmp_path, LAYOUTS[case]), key)


def explosive(root: Path, depth: int, width: int) -> Path:
    """A ``depth``-deep chain where every level's glob matches ``width`` files, each including the next
    level: width**depth inclusions for sshd."""
    files = {"sshd_config": "Include /etc/ssh/l1/*.conf\nPasswordAuthentication no\n"}
    for level in range(1, depth + 1):
        body = f"Include /etc/ssh/l{level + 1}/*.conf\n" if level < depth else "PermitRootLogin no\n"
        for index in range(width):
            files[f"l{level}/{index:03}.conf"] = body + "AcceptEnv LANG LC_*\n" * 8
    return layout(root, files)


def judged(root: Path) -> tuple[SshdConfig, float]:
    started = time.perf_counter()
    config = gather_sshd(RootfsTarget(str(root)))
    elapsed = time.perf_counter() - started
    assert isinstance(config, SshdConfig)
    return config, elapsed


@pytest.mark.parametrize(("depth", "width"), [(16, 2), (16, 8), (16, 64), (17, 64)])
def test_exploding_include_chain_is_judged_in_under_a_second(depth: int, width: int, tmp_path: Path) -> None:
    config, elapsed = judged(explosive(tmp_path, depth, width))
    assert config.undecided or config.fatal, "an exponential include tree must not be judged as if fine"
    # Depth first, as sshd: a 17-deep chain reaches sshd's fatal depth before the budget runs out.
    assert bool(config.fatal) is (depth > 16) and bool(config.undecided) is (depth <= 16)
    assert elapsed < 1.0, f"{elapsed:.3f} s"


def test_budget_counts_repeated_inclusions(tmp_path: Path) -> None:
    """2**9 - 1 file parses (a binary tree of includes) is within the budget and is judged."""
    config, elapsed = judged(explosive(tmp_path, 8, 2))
    assert not config.fatal and not config.undecided
    assert config.get("passwordauthentication").value == "no"
    assert config.get("permitrootlogin").value == "no" and elapsed < 1.0
    assert MAX_FILE_PARSES >= 2**9


def test_huge_directory_under_a_glob(tmp_path: Path) -> None:
    root = layout(tmp_path, {"sshd_config": "Include /etc/ssh/d/*\n"})
    (root / "etc/ssh/d").mkdir()
    for index in range(25_000):
        (root / f"etc/ssh/d/{index}").touch()
    config, elapsed = judged(root)
    assert config.undecided and "directory entries" in config.undecided
    assert elapsed < 1.0


def test_glob_over_the_whole_image(debian_root: Path) -> None:
    """``Include /*/*/*/*`` walks a real Debian root: stopped by the entry budget, not by patience."""
    root = debian_root
    started = time.perf_counter()
    from imagevet.facts.sshd import bounded_glob, parse_sshd_config

    target = RootfsTarget(str(root))
    texts = {"/etc/ssh/sshd_config": "Include /*/*/*/*/*\n"}
    config = parse_sshd_config(lambda p: texts.get(p) or target.read_text(p), bounded_glob(target))
    assert (config.undecided or config.fatal) and time.perf_counter() - started < 2.0


def test_too_many_lines_is_undecided_quickly(tmp_path: Path) -> None:
    root = layout(tmp_path, {"sshd_config": "AcceptEnv LANG\n" * (MAX_LINES + 1)})
    config, elapsed = judged(root)
    assert config.undecided and "lines" in config.undecided and elapsed < 1.0
    layout(tmp_path, {"sshd_config": "AcceptEnv LANG LC_*\n" * (MAX_LINES - 10)})
    config, elapsed = judged(root)
    assert not config.fatal and not config.undecided
    assert elapsed < 1.0, f"{elapsed:.3f} s for the largest accepted configuration"


def test_fatal_messages_carry_no_file_bytes(tmp_path: Path) -> None:
    evil = "EVIL\x1b[2J"
    for text in (f"{evil} yes\n", f'PasswordAuthentication "{evil}\n', f"PasswordAuthentication {evil}\n"):
        root = layout(tmp_path, {"sshd_config": text})
        config = ours(root)
        assert config.fatal and all("EVIL" not in m and "\x1b" not in m for m in config.fatal), config.fatal
    os.symlink("/etc/ssh/\x1b[2Jnowhere", tmp_path / "etc/ssh/dangling.conf")
    layout(tmp_path, {"sshd_config": "Include dangling.conf\n"})
    config = ours(tmp_path)
    assert config.fatal and all("\x1b" not in m for m in config.fatal)
