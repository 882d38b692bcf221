"""Local accounts and their password state, from /etc/passwd and /etc/shadow, as glibc reads them.

glibc's files backend is the reader that matters (getpwnam/getspnam, hence PAM, login and sshd): its
line rules, its field rules (a uid that is not a number drops the line; a shadow line needs its date
fields) and its lookup, where the *first* entry with a name wins. Reading a later duplicate, or a line
glibc skips, would let an image show the audit a locked root while the system uses another entry.
The parser is checked against glibc's own fgetpwent/fgetspent in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """An account whose password hash matches a well-known default password."""

    account: Account
    password: str


@dataclass(frozen=True)
class Accounts:
    """The image's accounts, the default-password guesses that matched, and the hashes that could not be
    tried."""

    accounts: tuple[Account, ...]
    default_password_hits: tuple[DefaultPasswordHit, ...]
    unverifiable: tuple[str, ...]  # accounts whose hash method crypt(3) here does not know
    shadowed: tuple[tuple[str, str, int], ...] = ()  # (name, path, line): later duplicates glibc never uses
    too_costly: tuple[str, ...] = ()  # accounts whose hashes cost more to try than imagevet spends

    def by_name(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)


# ---- glibc's files backend (nss/nss_files, pwd/fgetpwent_r.c, shadow/sgetspent_r.c), rule for rule ----
_C_SPACE = " \t\n\v\f\r"


@dataclass(frozen=True)
class PasswdEntry:
    """One line of /etc/passwd, by line number."""

    line: int
    name: str
    password: str
    uid: int
    shell: str


@dataclass(frozen=True)
class ShadowEntry:
    """One line of /etc/shadow, by line number (the hash itself never leaves the facts)."""

    line: int
    name: str
    password: str
    last_change: int = -1  # sp_lstchg: days since 1970-01-01 of the last change; -1 when not set


def _lines(text: str) -> list[tuple[int, str]]:
    """glibc's __nss_readline: lines end at ``\n`` only; leading white space is skipped; empty and
    ``#`` lines are skipped. (Python's splitlines would also split at \x85, \u2028 ..., making lines
    glibc never sees.)

    glibc skips the white space with ``memmove(buf, p, strlen(p))``, which leaves the terminating NUL
    where it was: on a last line without a newline, the last bytes appear twice (as many as were
    skipped, so part of a multi-byte character may be). That is what the system reads, so it is what
    we read.
    """
    found = []
    raw_lines = text.split("\n")
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.lstrip(_C_SPACE)
        if not line or line[0] == "#":
            continue
        skipped = len(raw) - len(line)
        if skipped and number == len(raw_lines):  # the last line, with no newline after it
            # glibc repeats bytes, not characters: the tail may be part of a UTF-8 sequence
            line += raw.encode("utf-8", "surrogateescape")[-skipped:].decode("utf-8", "surrogateescape")
        found.append((number, line))
    return found


def _string_field(line: str) -> tuple[str, str]:
    """STRING_FIELD: up to the next ``:`` (consumed) or the end."""
    value, colon, rest = line.partition(":")
    return value, rest if colon else ""


def _strtoul(text: str) -> tuple[int | None, int]:
    """C strtoul base 10: (value or None without digits, index where it stopped)."""
    i = 0
    while i < len(text) and text[i] in _C_SPACE:
        i += 1
    negative = i < len(text) and text[i] == "-"
    if i < len(text) and text[i] in "+-":
        i += 1
    start = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == start:
        return None, 0
    value = int(text[start:i])
    return ((-value) % 2**64 if negative else min(value, 2**64 - 1)), i


def _int_field(line: str, maybe_null: bool) -> tuple[int | None, str] | None:
    """INT_FIELD / INT_FIELD_MAYBE_NULL: a number ended by ``:`` or the end; None when glibc rejects."""
    if maybe_null and line == "":
        return None  # "we expect some more input"
    value, end = _strtoul(line)
    if value is None:
        if not maybe_null:
            return None
        end = 0
    elif value > 0xFFFFFFFF:  # glibc 2.36 (strtou32) refuses what 32 bits cannot hold, "-1" included
        return None
    if end < len(line):
        if line[end] != ":":
            return None
        end += 1
    return value, line[end:]


def parse_passwd_line(line: str) -> tuple[str, str, int, str] | None:
    """(name, password, uid, shell) as glibc parses a passwd line, or None where it skips the line."""
    name, rest = _string_field(line)
    if name[:1] in ("+", "-"):
        return None  # NIS compat entries: the files backend never returns them for a name
    password, rest = _string_field(rest)
    uid = _int_field(rest, maybe_null=False)
    if uid is None or uid[0] is None:
        return None
    gid = _int_field(uid[1], maybe_null=False)
    if gid is None:
        return None
    _gecos, rest = _string_field(gid[1])
    _home, shell = _string_field(rest)
    return name, password, uid[0], shell


def _as_long_from_int(value: int | None) -> int:
    """glibc stores each date field as ``(long int) (int) value``, -1 when empty: 4294967295 reads as -1
    (not set) and 2147483648 as a day before 1970."""
    if value is None:
        return -1
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def parse_shadow_line(line: str) -> tuple[str, str, int] | None:
    """(name, password, last change) as glibc parses a shadow line, or None where it skips the line."""
    name, rest = _string_field(line)
    if name[:1] in ("+", "-"):
        return None
    password, rest = _string_field(rest)
    last_change = -1
    for position in range(3):  # lstchg, min, max
        field = _int_field(rest, maybe_null=True)
        if field is None:
            return None
        if position == 0:
            last_change = _as_long_from_int(field[0])
        rest = field[1]
    rest = rest.lstrip(_C_SPACE)
    if rest:
        for _ in range(3):  # warn, inact, expire
            field = _int_field(rest, maybe_null=True)
            if field is None:
                return None
            rest = field[1]
        if rest:  # the flag: a number that must end the line (no terminator of its own)
            value, end = _strtoul(rest)
            if (value is not None and value > 0xFFFFFFFF) or (end if value is not None else 0) != len(rest):
                return None
    return name, password, last_change


def passwd_entries(text: str) -> list[PasswdEntry]:
    entries = []
    for number, line in _lines(text):
        parsed = parse_passwd_line(line)
        if parsed is not None:
            entries.append(PasswdEntry(number, *parsed))
    return entries


def shadow_entries(text: str) -> list[ShadowEntry]:
    entries = []
    for number, line in _lines(text):
        parsed = parse_shadow_line(line)
        if parsed is not None:
            entries.append(ShadowEntry(number, *parsed))
    return entries


def merge_accounts(passwd_text: str, shadow_text: str | None) -> list[Account]:
    """Accounts as the system sees them: getpwnam's entry (the *first* with the name, as glibc's files
    backend returns it), and getspnam's password field (again the first) when passwd says ``x``."""
    return _merge(passwd_text, shadow_text)[0]


def _merge(passwd_text: str, shadow_text: str | None) -> tuple[list[Account], list[tuple[str, str, int]]]:
    shadow: dict[str, ShadowEntry] = {}
    shadowed: list[tuple[str, str, int]] = []
    for spwd in shadow_entries(shadow_text or ""):
        if spwd.name in shadow:
            shadowed.append((spwd.name, SHADOW, spwd.line))
        else:
            shadow[spwd.name] = spwd
    accounts: list[Account] = []
    seen: set[str] = set()
    for entry in passwd_entries(passwd_text):
        if entry.name in seen:
            shadowed.append((entry.name, PASSWD, entry.line))
            continue
        seen.add(entry.name)
        found = shadow.get(entry.name)
        if entry.password == "x" and found is not None:
            accounts.append(Account(entry.name, entry.uid, entry.shell, found.password, SHADOW, found.line))
        else:
            accounts.append(Account(entry.name, entry.uid, entry.shell, entry.password, PASSWD, entry.line))
    return accounts, shadowed


# Bounds on the work of guessing (see cryptlib.crypt_cost_ms): one call, and all calls of one audit.
MAX_CALL_MS = 300.0
MAX_TOTAL_MS = 5000.0


def find_default_passwords(
    accounts: list[Account], workers: int | None = None
) -> tuple[list[DefaultPasswordHit], list[str], list[str]]:
    """Hits, accounts whose hash method crypt(3) here does not know, and accounts whose hashes would cost
    more than the bounds to try (their parameters, or too many hashed accounts): those are undecided.

    Which accounts are tried is decided first, in account order, from the hashes' own parameters, so the
    budget never depends on timing; the tries then run in parallel (facts/guesses.py, ``workers``
    threads, None: as many as the CPUs and memory allow), with the serial loop's answer."""
    if not any(account.has_usable_hash for account in accounts):
        return [], [], []  # nothing to hash: crypt(3) and the thread pool are not even loaded
    from imagevet.facts.cryptlib import crypt_cost_ms
    from imagevet.facts.guesses import GuessJob, try_guesses

    tried: list[tuple[Account, GuessJob]] = []
    too_costly: list[str] = []
    spent = 0.0
    for account in accounts:
        if not account.has_usable_hash:
            continue
        guesses = (*DEFAULT_PASSWORDS, account.name)
        cost = crypt_cost_ms(account.password)
        if cost is None or cost > MAX_CALL_MS or spent + cost * len(guesses) > MAX_TOTAL_MS:
            too_costly.append(account.name)
            continue
        spent += cost * len(guesses)
        tried.append((account, GuessJob(account.password, guesses)))
    verdicts = try_guesses([job for _, job in tried], workers)
    hits = [
        DefaultPasswordHit(account, verdict.matched)
        for (account, _), verdict in zip(tried, verdicts, strict=True)
        if verdict.matched is not None
    ]
    unverifiable = [
        account.name for (account, _), verdict in zip(tried, verdicts, strict=True) if verdict.unverifiable
    ]
    return hits, unverifiable, too_costly


def _present(target: Target, path: str) -> bool:
    """Something is at ``path``: a file, or a link even if it dangles or loops (``exists`` follows)."""
    return target.exists(path) or target.readlink(path) is not None


def gather_shadow(target: Target) -> tuple[ShadowEntry, ...] | Unknown | None:
    """The /etc/shadow entries getspnam would return (the first of each name); None when there is no
    shadow file at all, Unknown when one is there but cannot be read. No password is hashed here."""
    if not _present(target, SHADOW):
        return None
    text = target.read_text(SHADOW)
    if isinstance(text, Unknown):
        return Unknown(f"{SHADOW} exists but cannot be read: {text}")
    first: dict[str, ShadowEntry] = {}
    for entry in shadow_entries(text):
        first.setdefault(entry.name, entry)
    return tuple(first.values())


def gather_accounts(target: Target) -> Accounts | Unknown:
    """Accounts, or Unknown when passwd cannot be read, or shadow exists in any form (file, link, FIFO)
    but cannot be read: then no password state can be told, and no evidence is made up."""
    passwd = target.read_text(PASSWD)
    if isinstance(passwd, Unknown):
        return passwd
    shadow_text: str | None = None
    if _present(target, SHADOW):
        shadow = target.read_text(SHADOW)
        if isinstance(shadow, Unknown):
            return Unknown(f"{SHADOW} exists but cannot be read: {shadow}")
        shadow_text = shadow
    accounts, shadowed = _merge(passwd, shadow_text)
    hits, unverifiable, too_costly = find_default_passwords(accounts)
    return Accounts(tuple(accounts), tuple(hits), tuple(unverifiable), tuple(shadowed), tuple(too_costly))
