"""Local accounts and their password state, from /etc/passwd and /etc/shadow."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.cryptlib import crypt_matches
from imagevet.model import Unknown
from imagevet.target.base import Target

PASSWD = "/etc/passwd"
SHADOW = "/etc/shadow"

# Passwords that cloud images and tutorials are known to ship or suggest. Short on purpose: each guess
# costs one hash computation, and yescrypt is deliberately slow. The account's own name is tried too.
DEFAULT_PASSWORDS = (
    "root",
    "toor",
    "admin",
    "password",
    "123456",
    "12345678",
    "changeme",
    "ubuntu",
    "centos",
    "debian",
    "fedora",
    "alpine",
    "ec2-user",
    "Passw0rd",
    "P@ssw0rd",
    "qwerty",
)


@dataclass(frozen=True)
class Account:
    """One account: its password field as the system would use it, and where that field lives."""

    name: str
    uid: int | None
    shell: str
    password: str
    path: str
    line: int

    @property
    def has_empty_password(self) -> bool:
        return self.password == ""

    @property
    def has_usable_hash(self) -> bool:
        """A real hash that a password can unlock (locked ``!…`` and ``*`` fields cannot)."""
        return bool(self.password) and self.password[0] not in "!*" and self.password != "x"


@dataclass(frozen=True)
class DefaultPasswordHit:
    account: Account
    password: str


@dataclass(frozen=True)
class Accounts:
    accounts: tuple[Account, ...]
    default_password_hits: tuple[DefaultPasswordHit, ...]
    unverifiable: tuple[str, ...]  # accounts whose hash method crypt(3) here does not know

    def by_name(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)


def parse_colon_file(text: str) -> list[tuple[int, list[str]]]:
    """Lines of a passwd-style file as (line number, fields); blanks, comments and NIS lines skipped."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "+", "-")):
            continue
        rows.append((number, line.split(":")))
    return rows


def merge_accounts(passwd_text: str, shadow_text: str | None) -> list[Account]:
    """Accounts with the password field the system uses: shadow's when passwd says ``x``."""
    shadow: dict[str, tuple[int, str]] = {}
    if shadow_text is not None:
        for number, fields in parse_colon_file(shadow_text):
            if len(fields) >= 2:
                shadow[fields[0]] = (number, fields[1])
    accounts = []
    for number, fields in parse_colon_file(passwd_text):
        if len(fields) < 7:
            continue
        name, password, uid_text = fields[0], fields[1], fields[2]
        uid = int(uid_text) if uid_text.isdigit() else None
        if password == "x" and name in shadow:
            shadow_line, password = shadow[name]
            accounts.append(Account(name, uid, fields[6], password, SHADOW, shadow_line))
        else:
            accounts.append(Account(name, uid, fields[6], password, PASSWD, number))
    return accounts


def find_default_passwords(accounts: list[Account]) -> tuple[list[DefaultPasswordHit], list[str]]:
    hits: list[DefaultPasswordHit] = []
    unverifiable: list[str] = []
    for account in accounts:
        if not account.has_usable_hash:
            continue
        for guess in (*DEFAULT_PASSWORDS, account.name):
            matched = crypt_matches(guess, account.password)
            if matched is None:
                unverifiable.append(account.name)
                break
            if matched:
                hits.append(DefaultPasswordHit(account, guess))
                break
    return hits, unverifiable


def gather_accounts(target: Target) -> Accounts | Unknown:
    passwd = target.read_text(PASSWD)
    if isinstance(passwd, Unknown):
        return passwd
    shadow = target.read_text(SHADOW)
    shadow_text = None if isinstance(shadow, Unknown) else shadow
    if shadow_text is None and target.exists(SHADOW):
        return Unknown(f"{SHADOW} exists but cannot be read: {shadow}")
    accounts = merge_accounts(passwd, shadow_text)
    hits, unverifiable = find_default_passwords(accounts)
    return Accounts(tuple(accounts), tuple(hits), tuple(unverifiable))
