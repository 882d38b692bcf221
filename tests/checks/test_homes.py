"""Home directories and dot files of the accounts that can log in: each rule broken alone fails its check;
what cannot be read is an error. Owners are set with os.chown, so these tests need root (as CI runs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.model import Status, Unknown
from imagevet.target import RootfsTarget
from tests.checks.support import statuses

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
CHECKS = ["accounts-home-dirs", "accounts-dot-files"]
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"  # no login shell: its home is not judged
    "bob:x:1000:1000::/home/bob:/bin/bash\n"
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sets file owners (CI runs as root)")


def make_root(tmp_path: Path, passwd: str = PASSWD) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(passwd)
    (tmp_path / "etc/group").write_text("root:x:0:\ndaemon:x:1:\nbob:x:1000:\n")
    (tmp_path / "etc/shells").write_text("/bin/sh\n/bin/bash\n/usr/sbin/nologin\n")
    for home, uid in (("root", 0), ("home/bob", 1000)):
        (tmp_path / home).mkdir(parents=True)
        (tmp_path / home / ".profile").write_text("# profile\n")
        os.chown(tmp_path / home, uid, uid)
        os.chown(tmp_path / home / ".profile", uid, uid)
        (tmp_path / home).chmod(0o700)
        (tmp_path / home / ".profile").chmod(0o644)
    return tmp_path


def test_homes_in_order_pass(tmp_path: Path) -> None:
    assert statuses(make_root(tmp_path), CHECKS) == {"accounts-home-dirs": P, "accounts-dot-files": P}


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: (r / "home/bob/.profile").unlink() or (r / "home/bob").rmdir(),  # no home at all
        lambda r: os.chown(r / "home/bob", 0, 0),
        lambda r: (r / "home/bob").chmod(0o755),
        lambda r: (r / "home/bob").chmod(0o770),
    ],
)
def test_home_dirs_fail(tmp_path: Path, breakage) -> None:  # type: ignore[no-untyped-def]
    root = make_root(tmp_path)
    breakage(root)
    assert statuses(root, ["accounts-home-dirs"]) == {"accounts-home-dirs": F}


def test_a_home_that_is_a_file_fails(tmp_path: Path) -> None:
    root = make_root(tmp_path, PASSWD + "eve:x:1001:1001::/etc/passwd:/bin/sh\n")
    assert statuses(root, ["accounts-home-dirs"]) == {"accounts-home-dirs": F}


@pytest.mark.parametrize(
    ("name", "mode", "owner", "expected"),
    [
        (".bashrc", 0o644, (1000, 1000), P),
        (".bashrc", 0o664, (1000, 1000), F),  # group-writable
        (".bashrc", 0o646, (1000, 1000), F),
        (".bashrc", 0o644, (0, 1000), F),  # not the user's
        (".bashrc", 0o644, (1000, 0), F),  # not the user's primary group
        (".netrc", 0o600, (1000, 1000), P),
        (".netrc", 0o640, (1000, 1000), F),
        (".bash_history", 0o644, (1000, 1000), F),
        (".forward", 0o600, (1000, 1000), F),
        (".rhosts", 0o600, (1000, 1000), F),
    ],
)
def test_dot_files(tmp_path: Path, name: str, mode: int, owner: tuple[int, int], expected: Status) -> None:
    root = make_root(tmp_path)
    path = root / "home/bob" / name
    path.write_text("x\n")
    os.chown(path, *owner)
    path.chmod(mode)
    assert statuses(root, ["accounts-dot-files"]) == {"accounts-dot-files": expected}


def test_a_linked_dot_file_is_judged_where_it_points_and_a_linked_rhosts_still_fails(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "home/bob/.bashrc").symlink_to("/etc/passwd")  # a link: its target is not bob's file
    assert statuses(root, ["accounts-dot-files"]) == {"accounts-dot-files": P}
    (root / "home/bob/.rhosts").symlink_to("/dev/null")
    assert statuses(root, ["accounts-dot-files"]) == {"accounts-dot-files": F}


def test_hosts_equiv_fails(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "etc/hosts.equiv").write_text("+\n")
    assert statuses(root, ["accounts-dot-files"]) == {"accounts-dot-files": F}


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: (r / "etc/shells").unlink(),
        lambda r: (r / "etc/passwd").write_text(PASSWD + "not an entry\n"),
    ],
)
def test_what_says_who_logs_in_unreadable_is_an_error(tmp_path: Path, breakage) -> None:  # type: ignore[no-untyped-def]
    root = make_root(tmp_path)
    breakage(root)
    assert statuses(root, CHECKS) == {"accounts-home-dirs": E, "accounts-dot-files": E}


@pytest.mark.parametrize(
    "shells",
    [
        "/bin/sh\n/bin/bash # the usual one\n",  # glibc ends the shell at '#': bash is listed
        "/bin/sh\n  /bin/bash\n",
        "/bin/sh\n",  # bash not listed: login and sshd run it all the same
    ],
)
def test_who_logs_in_is_read_as_login_reads_it(tmp_path: Path, shells: str) -> None:
    root = make_root(tmp_path)
    (root / "etc/shells").write_text(shells)
    (root / "home/bob").chmod(0o755)
    assert statuses(root, ["accounts-home-dirs"]) == {"accounts-home-dirs": F}


def test_a_shared_home_is_listed_once_however_many_accounts_share_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwd = PASSWD + "".join(f"u{n}:x:{2000 + n}:1000::/home/bob:/bin/bash\n" for n in range(2000))
    root = make_root(tmp_path, passwd)
    for n in range(500):
        (root / f"home/bob/.f{n}").write_text("")
        os.chown(root / f"home/bob/.f{n}", 1000, 1000)
    listed: list[str] = []
    original = RootfsTarget.list_dir

    def counting(self: RootfsTarget, path: str) -> list[str] | Unknown:
        listed.append(path)
        return original(self, path)

    monkeypatch.setattr(RootfsTarget, "list_dir", counting)
    assert statuses(root, ["accounts-dot-files"]) == {"accounts-dot-files": F}  # not the others' files
    assert listed.count("/home/bob") == 1
