"""Modes and owners of the system files the checks judge (passwd, group, shadow, gshadow, sshd_config,
the SSH host keys, and the paths of the checks' files rows), and the group ids named in
/etc/group.

A target that does not record permissions (some archives) gives mode -1; the checks say so rather than
guess. /etc/group is read the way glibc's files backend does: the first entry for a name wins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from imagevet.facts.sshd import SshdConfig, host_key_path
from imagevet.model import Unknown
from imagevet.target.base import Target

SYSTEM_FILES = (
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh/sshd_config",
    *("/etc/cron.allow", "/etc/cron.deny", "/etc/at.allow", "/etc/at.deny"),  # checks/scheduler_access.py
)
HOST_KEYS = "/etc/ssh/ssh_host_*_key"
HOST_PUBLIC_KEYS = "/etc/ssh/ssh_host_*_key.pub"
GROUP = "/etc/group"


@dataclass(frozen=True)
class FileMode:
    """A file's permission bits and owner, as the image records them."""

    path: str
    mode: int  # permission bits; -1 when the target does not record them
    uid: int
    gid: int


@dataclass(frozen=True)
class SystemFiles:
    """The modes and presence of the files the checks judge, the SSH host keys and the group ids."""

    modes: dict[str, FileMode | Unknown]  # every path of SYSTEM_FILES, every host key, every judged file
    present: frozenset[str]  # those that exist, or are a link (even one that leads nowhere)
    host_keys: tuple[str, ...]  # the SSH host private keys in the image, in lexical order
    host_public_keys: tuple[str, ...]  # and their public halves
    group_ids: dict[str, int]  # group name -> gid; empty when /etc/group cannot be read

    def mode(self, path: str) -> FileMode | Unknown:
        return self.modes.get(path) or Unknown(f"{path}: not among the files imagevet looks at")

    def gid(self, name: str) -> int | None:
        return 0 if name == "root" else self.group_ids.get(name)


def parse_group_ids(text: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isascii() and fields[2].isdigit():
            ids.setdefault(fields[0], int(fields[2]))
    return ids


def _mode(target: Target, path: str) -> FileMode | Unknown:
    node = target.stat(path)
    if isinstance(node, Unknown):
        return node
    return FileMode(path, node.mode, node.uid, node.gid)


def gather_system_files(
    target: Target, judged: tuple[str, ...] = (), configured_keys: tuple[str, ...] = ()
) -> SystemFiles:
    """``judged``: the further paths the checks' files rows name (checks/needs.py); ``configured_keys``:
    the HostKey paths sshd_config names, wherever they are (sshd loads those, not only /etc/ssh's)."""
    named = [path for path in configured_keys if path.startswith("/")]
    keys = tuple(sorted({*target.glob(HOST_KEYS), *(p for p in named if target.exists(p))}))
    public = tuple(
        sorted({*target.glob(HOST_PUBLIC_KEYS), *(f"{p}.pub" for p in named if target.exists(f"{p}.pub"))})
    )
    paths = tuple(dict.fromkeys((*SYSTEM_FILES, *keys, *public, *judged)))
    text = target.read_text(GROUP)
    return SystemFiles(
        modes={path: _mode(target, path) for path in paths},
        # a link that dangles or loops is there too: its mode is an error, not a skip of a missing file
        present=frozenset(p for p in paths if target.exists(p) or target.readlink(p) is not None),
        host_keys=keys,
        host_public_keys=public,
        group_ids={} if isinstance(text, Unknown) else parse_group_ids(text),
    )


def configured_host_keys(target: Target, sshd: SshdConfig | Unknown | None) -> tuple[str, ...]:
    """The HostKey paths the sshd configuration names (none where sshd is absent or unreadable: the SSH
    checks then say so themselves), ``~`` expanded as sshd does."""
    if not isinstance(sshd, SshdConfig):
        return ()
    home_of = functools.partial(_home_of, target)
    return tuple(
        host_key_path(setting.value, home_of)
        for setting in sshd.settings.get("hostkey", ())
        if setting.value != "none"
    )


def _home_of(target: Target, user: str) -> str | None:
    """A user's home in /etc/passwd (getpwnam; "" is getpwuid(0): the first account with uid 0), as sshd
    expands ``~``; None where passwd cannot be read or has no such account."""
    from imagevet.facts.account_db import parse_passwd  # which reads this module's GROUP

    text = target.read_text("/etc/passwd")
    if isinstance(text, Unknown):
        return None
    found = (u for u in parse_passwd(text)[0] if (u.uid == 0 if user == "" else u.name == user))
    return next((u.home for u in found), None)
