"""Accounts: shadow merging and default-password detection with the system's crypt(3).

The fixture hashes were made with openssl and mkpasswd (see fixtures/rootfs/default-passwords/HOW.md),
so our libcrypt binding is checked against hashes it did not produce.
"""

from __future__ import annotations

from pathlib import Path

from imagevet.facts.accounts import Accounts, gather_accounts, merge_accounts
from imagevet.facts.cryptlib import crypt_matches
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


def test_default_passwords_found_for_every_hash_method() -> None:
    accounts = gather_accounts(RootfsTarget(str(FIXTURES / "rootfs/default-passwords")))
    assert isinstance(accounts, Accounts)
    hits = {hit.account.name: hit.password for hit in accounts.default_password_hits}
    assert hits == {"root": "root", "ubuntu": "ubuntu", "deploy": "changeme", "admin": "admin"}
    assert accounts.unverifiable == ()


def test_crypt_matches_each_method() -> None:
    shadow = (FIXTURES / "rootfs/default-passwords/etc/shadow").read_text().splitlines()
    hashes = {line.split(":")[0]: line.split(":")[1] for line in shadow}
    assert crypt_matches("ubuntu", hashes["ubuntu"]) is True  # yescrypt
    assert crypt_matches("root", hashes["root"]) is True  # sha512crypt
    assert crypt_matches("changeme", hashes["deploy"]) is True  # sha256crypt
    assert crypt_matches("admin", hashes["admin"]) is True  # md5crypt
    assert crypt_matches("wrong", hashes["alice"]) is False
    assert crypt_matches("x", "$unknownmethod$abc") is None


def test_shadow_field_used_when_passwd_says_x() -> None:
    accounts = merge_accounts("root:x:0:0::/root:/bin/sh\nold::1:1::/:/bin/sh\n", "root:!:1::::::\n")
    root, old = accounts
    assert (root.password, root.path, root.line) == ("!", "/etc/shadow", 1)
    assert old.has_empty_password and old.path == "/etc/passwd"


def test_x_without_shadow_entry_is_not_usable() -> None:
    (account,) = merge_accounts("svc:x:5:5::/:/bin/false\n", "")
    assert not account.has_usable_hash and not account.has_empty_password


def test_malformed_lines_are_skipped() -> None:
    accounts = merge_accounts("broken line\n+nis\n\nroot:x:0:0::/root:/bin/sh\n", "root:*:::::::\n")
    assert [a.name for a in accounts] == ["root"]


def test_missing_passwd_is_unknown(tmp_path: Path) -> None:
    assert isinstance(gather_accounts(RootfsTarget(str(tmp_path))), Unknown)


def test_unreadable_shadow_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (tmp_path / "etc/shadow").write_bytes(b"root:\xff\xfe:1::\n")
    result = gather_accounts(RootfsTarget(str(tmp_path)))
    assert isinstance(result, Unknown) and "/etc/shadow" in result.reason
