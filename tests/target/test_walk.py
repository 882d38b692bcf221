"""The walk of every file (target/walk.py): find(1) on a directory tree and the primitives' walk give the
same notable entries, on a tree made here with every kind of entry the checks must tell apart and on the
cached debootstrap root; a layered image of the same tree gives them too; what find prints that it should
not, or a walk that cannot finish, is Unknown, never a shorter list."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.model import Unknown
from imagevet.target import RootfsTarget, open_target, walk_local
from imagevet.target import walk as walk_module
from imagevet.target.confined import DIR, FILE, Node
from imagevet.target.walk import Notable, WalkQuery, WalkResult, walk_confined
from imagevet.target.walk_find import FindReader, remote_mounts
from tests.support.images import layer_bytes, make_docker_archive

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")

KNOWN = WalkQuery(frozenset({0, 1}), frozenset({0, 1}))


def _file(root: Path, name: str | bytes, mode: int, owner: tuple[int, int] = (0, 0)) -> None:
    path = os.path.join(os.fsencode(root), os.fsencode(name))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(b"x\n")
    os.chmod(path, mode)
    os.lchown(path, *owner)


def _dir(root: Path, name: str, mode: int, owner: tuple[int, int] = (0, 0)) -> None:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    os.lchown(path, *owner)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Each entry below says whether it is notable, and why."""
    root = tmp_path / "root"
    root.mkdir(mode=0o755)
    _file(root, "etc/passwd", 0o644)  # plain
    _file(root, "srv/shared.txt", 0o666)  # world-writable file: notable
    _file(root, "srv/group-writable", 0o664)  # group-writable only: plain
    _dir(root, "srv/drop", 0o777)  # world-writable directory without the sticky bit: notable
    _dir(root, "tmp", 0o1777)  # with it: plain
    _file(root, "opt/build.log", 0o644, (4242, 0))  # unknown owner: notable
    _file(root, "opt/cache.db", 0o644, (0, 4343))  # unknown group: notable
    _dir(root, "home/gone", 0o700, (5000, 5000))  # both, a directory: notable
    _file(root, "srv/sp ace", 0o646)  # names as they come: notable
    _file(root, "srv/new\nline", 0o602)
    _file(root, b"srv/\xff-not-utf8", 0o666)
    _file(root, "proc/1/environ", 0o666)  # left out: /proc, /sys, /run/user, /snap ...
    _file(root, "sys/kernel/x", 0o666)
    _file(root, "run/user/1000/x", 0o666, (1000, 1000))
    _file(root, "snap/core/x", 0o666)
    _file(root, "var/lib/containerd/io/x", 0o666)  # ... and the container runtimes' trees
    _file(root, "var/lib/kubelet/pods/p/x", 0o666)
    _file(root, "var/lib/kubelet/config", 0o666)  # but not the rest of kubelet's: notable
    _file(root, "usr/bin/containerd", 0o777)  # a *file* called containerd is judged: notable
    os.symlink("/etc/passwd", root / "srv/link")  # links are never judged nor followed
    os.symlink("/", root / "srv/up")
    os.mkfifo(root / "srv/fifo", 0o666)  # nor FIFOs (nor devices)
    os.chmod(root / "srv/fifo", 0o666)
    return root


EXPECTED = [
    ("/home/gone", DIR, 0o700, 5000, 5000),
    ("/opt/build.log", FILE, 0o644, 4242, 0),
    ("/opt/cache.db", FILE, 0o644, 0, 4343),
    ("/srv/drop", DIR, 0o777, 0, 0),
    ("/srv/new\nline", FILE, 0o602, 0, 0),
    ("/srv/shared.txt", FILE, 0o666, 0, 0),
    ("/srv/sp ace", FILE, 0o646, 0, 0),
    ("/srv/\udcff-not-utf8", FILE, 0o666, 0, 0),
    ("/usr/bin/containerd", FILE, 0o777, 0, 0),
    ("/var/lib/kubelet/config", FILE, 0o666, 0, 0),
]


def _rows(result: WalkResult | Unknown) -> list[tuple[str, str, int, int, int]]:
    assert isinstance(result, WalkResult), result
    return [(n.path, n.kind, n.mode, n.uid, n.gid) for n in result.notable]


def test_find_and_the_primitives_find_the_same_entries(tree: Path) -> None:
    target = RootfsTarget(str(tree))
    by_find = target.start_walk(KNOWN).result()
    by_primitives = walk_confined(target, KNOWN)
    assert _rows(by_find) == EXPECTED
    assert _rows(by_primitives) == EXPECTED
    assert isinstance(by_find, WalkResult) and isinstance(by_primitives, WalkResult)
    assert by_find.entries == by_primitives.entries > len(EXPECTED)


def test_a_layered_image_of_the_tree_gives_the_same_entries(tree: Path, tmp_path: Path) -> None:
    archive = make_docker_archive([layer_bytes(tree)], tmp_path / "image.tar")
    target = open_target(f"docker-archive:{archive}")
    try:
        assert _rows(target.start_walk(KNOWN).result()) == EXPECTED
    finally:
        target.close()


def test_ids_not_known_judge_no_owner(tree: Path) -> None:
    rows = _rows(RootfsTarget(str(tree)).start_walk(WalkQuery(None, None)).result())
    assert [row[0] for row in rows] == [
        "/srv/drop", "/srv/new\nline", "/srv/shared.txt", "/srv/sp ace", "/srv/\udcff-not-utf8",
        "/usr/bin/containerd", "/var/lib/kubelet/config",
    ]  # fmt: skip


def test_the_debootstrap_root_both_ways(debian_root: Path) -> None:
    from imagevet.facts.account_db import gather_account_database
    from imagevet.facts.file_walk import gather_known_ids, start_walk

    target = RootfsTarget(str(debian_root))
    by_find = start_walk(target, gather_known_ids(target)).result()
    assert isinstance(by_find, WalkResult)
    database = gather_account_database(target)
    assert not isinstance(database, Unknown)
    query = WalkQuery(frozenset(u.uid for u in database.users), frozenset(g.gid for g in database.groups))
    assert by_find == walk_confined(target, query)
    assert by_find.entries > 10_000


def test_the_walk_cap_is_a_refusal(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk_module, "MAX_WALK_ENTRIES", 5)
    assert "more than 5 files" in str(walk_confined(RootfsTarget(str(tree)), KNOWN))
    reader = FindReader(KNOWN)
    monkeypatch.setattr("imagevet.target.walk_find.MAX_WALK_ENTRIES", 5)
    assert not reader.feed(b"\0" * 6)
    assert "more than 5 files" in str(reader.finish(0, b"", live=False))


def test_past_the_notable_cap_entries_are_counted(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("imagevet.target.walk_find.MAX_NOTABLE", 3)
    result = RootfsTarget(str(tree)).start_walk(KNOWN).result()
    assert isinstance(result, WalkResult)
    assert (len(result.notable), result.more) == (3, len(EXPECTED) - 3)


@pytest.mark.parametrize(
    ("output", "why"),
    [
        (b"f 644 0 0 etc/passwd", "ended part-way"),  # truncated: no NUL after the last record
        (b"x 644 0 0 etc/passwd\0", "not asked for"),  # a kind find was not asked to print
        (b"f 6a4 0 0 etc/passwd\0", "not asked for"),
        (b"f 644 0\0", "not asked for"),
        (b"f" * 70000, "longer than any path"),
    ],
)
def test_output_find_would_not_print_is_refused(output: bytes, why: str) -> None:
    reader = FindReader(KNOWN)
    reader.feed(output)
    result = reader.finish(0, b"", live=False)
    assert isinstance(result, Unknown) and why in result.reason


def test_what_find_says_on_stderr_is_not_trusted() -> None:
    reader = FindReader(KNOWN)
    reader.feed(b"f 666 0 0 srv/x\0\0\0")
    denied = reader.finish(1, b"find: '/srv/locked': Permission denied\n", live=False)
    assert isinstance(denied, Unknown) and "Permission denied" in denied.reason
    assert isinstance(reader.finish(1, b"", live=False), Unknown)  # a failing status alone
    # on a live host a file may go away while find looks: only that is let through
    gone = reader.finish(1, b"find: '/tmp/x': No such file or directory\n", live=True)
    assert isinstance(gone, WalkResult) and gone.entries == 3
    escaped = reader.finish(1, b"find: \x1b[31m\n", live=False)
    assert isinstance(escaped, Unknown) and "\x1b" not in escaped.reason


def test_a_walk_find_cannot_finish_is_unknown(tree: Path) -> None:
    """As root nothing is unreadable; a start point that is not there makes find fail the same way."""
    result = walk_local.FindWalk(str(tree / "missing"), KNOWN, (), live=False).result()
    assert isinstance(result, Unknown) and "No such file" in result.reason


def test_no_find_on_this_machine(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk_local, "FIND_PROGRAMS", ("/nonexistent/find",))
    result = RootfsTarget(str(tree)).start_walk(KNOWN).result()
    assert isinstance(result, Unknown) and "not installed" in result.reason


def test_a_target_that_records_no_owner_is_unknown(tree: Path) -> None:
    class NoOwners(RootfsTarget):
        def _node(self, parts: list[str]) -> Node | None:
            node = super()._node(parts)
            return None if node is None else Node(node.kind, node.size)

    result = walk_confined(NoOwners(str(tree)), KNOWN)
    assert isinstance(result, Unknown) and "does not record the mode and owner of /" in result.reason


def test_network_mounts_are_left_out() -> None:
    mounts = (
        "/dev/vda / ext4 rw 0 0\n"
        "proc /proc proc rw 0 0\n"
        "srv:/export /mnt/with\\040space nfs4 rw 0 0\n"
        "//host/share /mnt/smb cifs rw 0 0\n"
        "tmpfs /run tmpfs rw 0 0\n"
    )
    assert remote_mounts(mounts) == ("/proc", "/mnt/with space", "/mnt/smb")


def test_a_network_mount_is_not_walked(tree: Path) -> None:
    from imagevet.target.walk_find import find_arguments

    assert "/mnt/nfs" in " ".join(find_arguments(KNOWN, "/", ("/mnt/nfs",)))
    result = walk_local.FindWalk(str(tree), KNOWN, ("/srv",), live=False).result()
    assert [row[0] for row in _rows(result)] == [
        "/home/gone", "/opt/build.log", "/opt/cache.db", "/usr/bin/containerd", "/var/lib/kubelet/config",
    ]  # fmt: skip


def test_a_root_with_glob_characters_in_its_path(tmp_path: Path) -> None:
    root = tmp_path / "a[1]*?"
    _file(root, "proc/x", 0o666)  # still left out: the root's own characters are escaped
    _file(root, "srv/x", 0o666)
    assert [n.path for n in _notable(RootfsTarget(str(root)).start_walk(KNOWN).result())] == ["/srv/x"]


def _notable(result: WalkResult | Unknown) -> tuple[Notable, ...]:
    assert isinstance(result, WalkResult), result
    return result.notable


def test_a_root_named_like_a_skipped_directory_is_walked(tmp_path: Path) -> None:
    """red-team rt27 D1: the skip rules are the image's paths, never the host's part of the root."""
    for host in ("containerd", "kubelet/pods", "x/kubelet/pods"):
        root = tmp_path / host
        _file(root, "srv/x", 0o666)
        _file(root, "var/lib/kubelet/pods/p/x", 0o666)  # still left out inside the image
        assert [n.path for n in _notable(RootfsTarget(str(root)).start_walk(KNOWN).result())] == ["/srv/x"]


def test_skipped_directories_are_neither_judged_nor_entered(tmp_path: Path) -> None:
    """red-team rt27 D6: the fixes prune them, so the audit must not fail on them either."""
    root = tmp_path / "root"
    _dir(root, "proc", 0o777, (4242, 4242))
    _dir(root, "var/lib/containerd", 0o777)
    target = RootfsTarget(str(root))
    assert _rows(target.start_walk(KNOWN).result()) == _rows(walk_confined(target, KNOWN)) == []


def test_the_root_member_of_an_archive_is_the_root(tmp_path: Path) -> None:
    """red-team rt27 D2: a layer's "./" gives the root its mode and owner, as the runtimes apply it."""
    import tarfile

    root = tmp_path / "root"
    _file(root, "etc/passwd", 0o644)
    root.chmod(0o777)
    os.lchown(root, 4321, 4321)
    layer = tmp_path / "layer.tar"
    with tarfile.open(layer, "w") as archive:
        archive.add(root, arcname=".")
    archive_path = make_docker_archive([layer.read_bytes()], tmp_path / "image.tar")
    target = open_target(f"docker-archive:{archive_path}")
    try:
        assert _rows(target.start_walk(KNOWN).result()) == [("/", DIR, 0o777, 4321, 4321)]
    finally:
        target.close()
    assert _rows(RootfsTarget(str(root)).start_walk(KNOWN).result()) == [("/", DIR, 0o777, 4321, 4321)]


@pytest.mark.parametrize(
    ("status", "errors", "decided"),
    [
        (0, b"", True),
        (1, b"find: '/tmp/x': No such file or directory\n", True),  # a file went away: let through
        (-9, b"", False),  # killed (the OOM killer, a ulimit): a partial walk
        (-1, b"", False),  # no exit status came back over SSH
        (1, b"", False),  # failed without saying why
        (2, b"find: '/tmp/x': No such file or directory\n", False),
    ],
)
def test_a_live_walk_that_did_not_finish_is_unknown(status: int, errors: bytes, decided: bool) -> None:
    """red-team rt27 D4: on a live host only vanished files are forgiven, never a killed find."""
    reader = FindReader(KNOWN)
    reader.feed(b"\0\0\0")
    assert isinstance(reader.finish(status, errors, live=True), WalkResult) is decided


def test_a_killed_find_is_unknown(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A find that is still running when it is killed: a stand-in that waits, so that the kill cannot
    race a find already finished over the small tree (CI saw exactly that race pass a real find)."""
    import signal

    slow_find = tmp_path / "find"
    slow_find.write_text("#!/bin/sh\nexec sleep 60\n")
    slow_find.chmod(0o755)
    monkeypatch.setattr(walk_local, "FIND_PROGRAMS", (str(slow_find),))
    walk = walk_local.FindWalk(str(tree), KNOWN, (), live=True)
    os.kill(walk._pid, signal.SIGKILL)
    result = walk.result()
    assert isinstance(result, Unknown) and "killed" in result.reason
