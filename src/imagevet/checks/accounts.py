"""Account and password checks: passwd/shadow entries (empty, default, root), and PAM's password quality
and lockout, and the shadow change dates. The login.defs ageing settings are value rows in accounts.yaml."""

from __future__ import annotations

import datetime as dt

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.accounts import SHADOW, Account
from imagevet.facts.pam import ModuleLine, Setting, effective
from imagevet.model import Evidence, Outcome, Status, Unknown

_HASH_NAMES = {
    "$y$": "yescrypt",
    "$gy$": "gost-yescrypt",
    "$7$": "scrypt",
    "$6$": "sha512crypt",
    "$5$": "sha256crypt",
    "$1$": "md5crypt",
    "$2b$": "bcrypt",
    "$2y$": "bcrypt",
    "$2a$": "bcrypt",
}


def describe_password(account: Account) -> str:
    """What kind of password field an account has, without ever showing the hash.

    The words follow the same tests as the verdict (``has_empty_password``, ``has_usable_hash``), so the
    evidence can never say "usable" where the status says locked, or the reverse.
    """
    field = account.password
    if account.has_empty_password:
        return "an empty password field"
    if not account.has_usable_hash:
        if field == "x":
            return "no password: passwd says 'x' and /etc/shadow has no entry for it (nothing unlocks it)"
        return (
            f"a locked password field ({field[0]}...)"
            if len(field) > 1
            else f"a locked password field ({field})"
        )
    for prefix, name in _HASH_NAMES.items():
        if field.startswith(prefix):
            return f"a usable {name} password hash"
    return "a usable password hash"


def empty_password(facts: Facts, options: CheckOptions) -> Outcome:
    accounts = facts.accounts
    if isinstance(accounts, Unknown):
        return Outcome.of(Status.ERROR, accounts.reason)
    empty = [a for a in accounts.accounts if a.has_empty_password]
    if not empty:
        return Outcome.of(
            Status.PASS, f"none of {len(accounts.accounts)} accounts has an empty password field"
        )
    return Outcome(
        Status.FAIL,
        tuple(Evidence(f"account {a.name} has an empty password field", a.path, a.line) for a in empty),
    )


def default_password(facts: Facts, options: CheckOptions) -> Outcome:
    accounts = facts.accounts
    if isinstance(accounts, Unknown):
        return Outcome.of(Status.ERROR, accounts.reason)
    if accounts.default_password_hits:
        return Outcome(
            Status.FAIL,
            tuple(
                Evidence(
                    f"account {hit.account.name} has the well-known password {hit.password!r}",
                    hit.account.path,
                    hit.account.line,
                )
                for hit in accounts.default_password_hits
            ),
        )
    hashed = [a for a in accounts.accounts if a.has_usable_hash]
    if hashed:
        from imagevet.facts.cryptlib import crypt_available  # ctypes: only for an image with hashes

        if not crypt_available():
            return Outcome.of(Status.ERROR, "no crypt(3) library on this machine to verify password hashes")
    if accounts.too_costly:
        return Outcome.of(
            Status.ERROR,
            "trying the well-known passwords would cost more than imagevet spends (hash cost parameters, "
            f"or too many hashed accounts): {', '.join(accounts.too_costly[:10])}"
            + (f" and {len(accounts.too_costly) - 10} more" if len(accounts.too_costly) > 10 else ""),
        )
    if accounts.unverifiable:
        return Outcome.of(
            Status.ERROR,
            f"crypt(3) here does not know the hash method of: {', '.join(accounts.unverifiable)}",
        )
    return Outcome.of(
        Status.PASS,
        f"{len(hashed)} account(s) with a password hash; none matches a well-known default password",
    )


def root_locked(facts: Facts, options: CheckOptions) -> Outcome:
    accounts = facts.accounts
    if isinstance(accounts, Unknown):
        return Outcome.of(Status.ERROR, accounts.reason)
    root = accounts.by_name("root")
    if root is None:
        return Outcome.of(Status.ERROR, "no root account in /etc/passwd")
    evidence = [Evidence(f"root has {describe_password(root)}", root.path, root.line)]
    evidence += [
        Evidence("a later root entry: glibc (and so PAM and sshd) uses only the first", path, line)
        for name, path, line in accounts.shadowed
        if name == "root"
    ]
    usable = root.has_empty_password or root.has_usable_hash
    return Outcome(Status.FAIL if usable else Status.PASS, tuple(evidence))


# ---- PAM password quality and lockout ------------------------------------------------------------

MIN_PASSWORD_LENGTH = 14  # CIS: "Ensure password length is configured" (minlen >= 14)
MAX_FAILED_ATTEMPTS = 5  # CIS: deny 1..5
MIN_UNLOCK_SECONDS = 900  # CIS: unlock_time 0 (never) or >= 900


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _setting_evidence(label: str, setting: Setting) -> Evidence:
    if setting.path == "default":
        return Evidence(f"{label} = {setting.value} (library default)")
    return Evidence(f"{label} = {setting.value}", setting.path, setting.line)


def stack_lines(facts: Facts, kind: str, module: str) -> list[ModuleLine] | Outcome:
    """The lines of the image's ``kind`` stack that call ``module``; skip without PAM, fail without it."""
    present, lines = facts.pam.stack_modules(kind, module)
    if facts.pam.unreadable:
        return Outcome(Status.ERROR, tuple(Evidence(reason) for reason in facts.pam.unreadable))
    if not present:
        return Outcome.of(Status.SKIP, f"no PAM {kind} stack (common-{kind} or system-auth) in the image")
    if not lines:
        return Outcome.of(
            Status.FAIL, f"{module.removesuffix('.so')} is not in the {kind} stack ({', '.join(present)})"
        )
    return lines


def line_evidence(line: ModuleLine) -> Evidence:
    """A PAM module line as evidence: ``kind control module arguments``, at its file and line."""
    arguments = " ".join(line.arguments)
    return Evidence(f"{line.kind} {line.control} {line.module} {arguments}".rstrip(), line.path, line.line)


def password_quality(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_pwquality in the password stack, with an effective minlen of at least 14 on every line."""
    lines = stack_lines(facts, "password", "pam_pwquality.so")
    if isinstance(lines, Outcome):
        return lines
    settings = facts.pam.pwquality
    evidence, short = [], False
    for line in lines:
        minlen = effective(settings, line, "minlen", fold_case=True) or Setting("?", line.path, line.line)
        evidence.append(_setting_evidence("pam_pwquality minlen", minlen))
        value = _as_int(minlen.value)
        short = short or value is None or value < MIN_PASSWORD_LENGTH
    if facts.pam.pwquality_stop is not None:
        evidence.append(Evidence(facts.pam.pwquality_stop))
    return Outcome(Status.FAIL if short else Status.PASS, tuple(evidence))


def account_lockout(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_faillock in the auth stack, locking after at most 5 failures for 15 minutes or until reset."""
    lines = stack_lines(facts, "auth", "pam_faillock.so")
    if isinstance(lines, Outcome):
        return lines
    settings = facts.pam.faillock
    evidence, weak = [], False
    for line in lines:
        for name in ("deny", "unlock_time"):
            setting = effective(settings, line, name) or Setting("?", line.path, line.line)
            evidence.append(_setting_evidence(f"pam_faillock {name}", setting))
            value = _as_int(setting.value)
            if name == "deny":
                weak = weak or value is None or not 0 < value <= MAX_FAILED_ATTEMPTS
            else:
                weak = weak or value is None or (value != 0 and value < MIN_UNLOCK_SECONDS)
    return Outcome(Status.FAIL if weak else Status.PASS, tuple(dict.fromkeys(evidence)))


def _day(days: int) -> str:
    """A shadow date as a calendar date (or the day number, past what a calendar date can hold)."""
    try:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()
    except OverflowError:
        return f"day {days} after 1970-01-01"


def password_change_past(facts: Facts, options: CheckOptions) -> Outcome:
    """CIS: every account with a password has its last change on or before today (the audit date). A
    date after it, left by a build machine whose clock ran ahead, puts off every ageing rule: maximum
    age, warning and inactivity count from it."""
    entries = facts.shadow
    if entries is None:
        return Outcome.of(Status.SKIP, "no /etc/shadow: there are no password change dates to judge")
    if isinstance(entries, Unknown):
        return Outcome.of(Status.ERROR, entries.reason)
    today = (options.as_of - dt.date(1970, 1, 1)).days
    with_password = [e for e in entries if e.password and e.password[0] not in "!*"]
    future = [e for e in with_password if e.last_change > today]
    if not future:
        return Outcome.of(
            Status.PASS,
            f"none of {len(with_password)} accounts with a password last changed it after "
            f"{options.as_of.isoformat()}",
        )
    return Outcome(
        Status.FAIL,
        tuple(
            Evidence(
                f"account {e.name} last changed its password on {_day(e.last_change)}, "
                f"after {options.as_of.isoformat()}",
                SHADOW,
                e.line,
            )
            for e in future
        ),
    )
