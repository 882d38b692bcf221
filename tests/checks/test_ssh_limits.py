"""ssh-max-startups and ssh-access-limited over the effective sshd configuration. MaxStartups is read as
sshd reads it, which the real `sshd -T` confirms spec by spec (where it runs: it needs unshare and root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.checks.ssh import parse_max_startups
from imagevet.model import Status
from tests.checks.support import statuses
from tests.support.sshd_oracle import host_key, sshd_available, sshd_t

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
CHECKS = ["ssh-max-startups", "ssh-access-limited"]


def _drop_in(root: Path, text: str) -> dict[str, Status]:
    (root / "etc/ssh/sshd_config.d/05-cis.conf").write_text(text)
    return statuses(root, CHECKS)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("10:30:60", P),
        ("5:30:20", P),
        ("10", P),  # 10:30:10
        ("10:20:60", P),
        ("10:30:100", F),  # sshd's default
        ("11:30:60", F),
        ("10:40:60", F),  # CIS's audit flags a rate above 30
        ("60", F),  # 60:30:60: start above 10
        ("10:30", E),  # sshd refuses two fields
        ("20:30:10", E),  # start above full
        ("5:101:8", E),
        ("ten", E),
    ],
)
def test_max_startups(debian: Path, spec: str, expected: Status) -> None:
    assert _drop_in(debian, f"MaxStartups {spec}\n")["ssh-max-startups"] is expected


def test_the_default_fails_max_startups_and_no_list_fails_access(debian: Path) -> None:
    assert statuses(debian, CHECKS) == {"ssh-max-startups": F, "ssh-access-limited": F}


@pytest.mark.parametrize(
    "line", ["AllowUsers alice", "AllowGroups sshusers", "DenyUsers guest", "DenyGroups nossh"]
)
def test_any_allow_or_deny_list_limits_access(debian: Path, line: str) -> None:
    assert _drop_in(debian, line + "\n")["ssh-access-limited"] is P


def test_a_list_only_inside_a_conditional_match_does_not_limit_every_connection(debian: Path) -> None:
    assert _drop_in(debian, "Match Address 10.0.0.0/8\n  AllowUsers alice\n")["ssh-access-limited"] is F
    assert _drop_in(debian, "Match all\n  AllowGroups sshusers\n")["ssh-access-limited"] is P


@pytest.mark.real
@pytest.mark.skipif(
    not sshd_available() or os.geteuid() != 0, reason="needs OpenSSH's sshd, unshare and root"
)
@pytest.mark.parametrize("spec", ["10:30:60", "10", "60", "1:1:1", "10:30", "20:30:10", "5:101:8", "0:30:0"])
def test_max_startups_is_read_as_sshd_reads_it(tmp_path: Path, spec: str) -> None:
    root = tmp_path / "image"
    (root / "etc/ssh").mkdir(parents=True)
    key = host_key(tmp_path)
    (root / "etc/ssh/sshd_config").write_text(f"MaxStartups {spec}\n")
    oracle = sshd_t(root, key)
    ours = parse_max_startups(spec)
    if oracle.returncode != 0:
        assert ours is None, oracle.stderr
    else:
        assert ours is not None and ":".join(map(str, ours)) == oracle.values["maxstartups"]


def test_host_keys_named_by_hostkey_outside_etc_ssh_are_judged(debian: Path) -> None:
    """sshd loads the keys HostKey names, wherever they are: a world-readable one in /srv fails."""
    keys = debian / "srv/keys"
    keys.mkdir(parents=True)
    (keys / "host_ed25519").write_text("private\n")
    (keys / "host_ed25519.pub").write_text("ssh-ed25519 AAAA host\n")
    (keys / "host_ed25519").chmod(0o600)
    (keys / "host_ed25519.pub").chmod(0o644)
    judged = ["ssh-host-keys", "ssh-host-public-keys"]
    _drop_in(debian, "HostKey /srv/keys/host_ed25519\n")
    assert statuses(debian, judged) == {"ssh-host-keys": P, "ssh-host-public-keys": P}
    (keys / "host_ed25519").chmod(0o644)
    (keys / "host_ed25519.pub").chmod(0o666)
    assert statuses(debian, judged) == {"ssh-host-keys": F, "ssh-host-public-keys": F}


@pytest.mark.parametrize(
    ("line", "where"), [("HostKey ~/hostkey", "root/hostkey"), ("HostKey hostkey", "hostkey")]
)
def test_host_keys_named_by_tilde_or_relative_paths_are_judged_where_sshd_loads_them(
    debian: Path, line: str, where: str
) -> None:
    """sshd -T shows ~/hostkey as /root/hostkey and a relative path from / (found by the red-team)."""
    key = debian / where
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("private\n")
    key.chmod(0o644)
    _drop_in(debian, line + "\n")
    assert statuses(debian, ["ssh-host-keys"]) == {"ssh-host-keys": F}


def test_tilde_is_the_first_uid_0_accounts_home(debian: Path) -> None:
    """sshd expands ~ with getpwuid(0), whatever that account is called (the second red-team)."""
    passwd = (debian / "etc/passwd").read_text()
    (debian / "etc/passwd").write_text("toor:x:0:0::/srv/toor:/bin/sh\n" + passwd)
    key = debian / "srv/toor/hostkey"
    key.parent.mkdir(parents=True)
    key.write_text("private\n")
    key.chmod(0o644)
    _drop_in(debian, "HostKey ~/hostkey\n")
    assert statuses(debian, ["ssh-host-keys"]) == {"ssh-host-keys": F}
