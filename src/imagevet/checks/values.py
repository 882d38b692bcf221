"""Value checks as data: a ``value`` row in a subject's YAML names a fact, the keys to read from it and
what each key must be; this one predicate judges every such row.

    value: {fact: sysctl, keys: [net.ipv4.ip_forward], op: eq, want: 0}
    value: {fact: sshd, keys: [maxauthtries], op: between, want: [1, 4]}
    value: [{fact: sshd, keys: [clientaliveinterval], ...}, {fact: sshd, keys: [clientalivecountmax], ...}]

Facts: ``sysctl`` (boot-time value, which must be set in a sysctl file, not left to the kernel's default,
and the running one on a live host), ``sshd`` (the effective value and every Match block that overrides
it), ``login.defs``, ``packages`` (``op: any`` or ``none`` of ``keys`` installed), ``files`` (``op: mode``:
the paths owned by root, in one of ``groups``, with no permission bit beyond the octal ``want``;
``absent: skip`` for files an image may lack: those there are judged, none there is a skip), ``mounts``
(``op: option``: the mount point's fstab entry, or /tmp's tmp.mount, or for /dev/shm systemd's own mount,
has the option ``want``; skipped where the mount point is no separate mount, or the image is a
container's). Operators: ``eq``, ``le``,
``ge``, ``between`` ([low, high], inclusive), ``mask`` (all bits of an octal ``want`` set, the value read
as octal), for sshd and login.defs words ``in`` (one of, exactly as written), and for sshd lists
``none-of`` (no list item matching an fnmatch pattern). ``shown`` is how the evidence names the wanted value.
``boolean`` (journald: the value read as systemd's parse_boolean reads it, any case). ``units``
(checks/config_values.py): ``op: enabled``, the first of ``keys`` installed is started at boot
(``absent: skip`` for a service asked about only where it is used), or ``op: disabled``, none is.

Every key of every row is judged; the outcome is ``error`` if one key could not be decided, else ``fail``
if one key fails, else ``pass``, with the evidence of all keys in order. A fact that cannot be read at all
(no sshd, an unreadable login.defs, no package database) gives its one shared skip or error outcome.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imagevet.checks.base import worst
from imagevet.checks.config_values import journald_judged, pwquality_judged, units_judged
from imagevet.checks.modes import file_mode
from imagevet.checks.ssh import setting_evidence, sshd_or_outcome
from imagevet.errors import DataError
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Package, Status, Unknown

if TYPE_CHECKING:  # imported by the mounts fact, only for the audits that judge mounts
    from imagevet.facts.mounts import Mounts

# Why a kernel default does not pass: CIS's audit of each kernel parameter asks that it be set in a file
# systemd-sysctl loads, as do SSG's rules; a default can differ with the kernel build or a boot parameter,
# and a later package's sysctl.d file is the only thing that could change a set value (docs/checks.md).
UNSET_SYSCTL = "set it in /etc/sysctl.d, as CIS's audit asks (a kernel default is not the image's setting)"
DEV_SHM_UNKNOWN = "/dev/shm is not known to be a separate mount (no /etc/fstab line, no systemd to mount it)"
FACTS = ("sysctl", "sshd", "login.defs", "packages", "files", "mounts", "pwquality", "journald", "units")
NUMBER_OPS = ("eq", "le", "ge", "between", "mask")
OPS = {
    "sysctl": NUMBER_OPS,
    "login.defs": (*NUMBER_OPS, "in"),
    "sshd": (*NUMBER_OPS[:4], "in", "none-of"),
    "packages": ("any", "none"),
    "files": ("mode",),
    "mounts": ("option",),
    "pwquality": ("ge", "between", "present"),
    "journald": ("in", "boolean"),
    "units": ("enabled", "disabled"),
}
ROW_KEYS = frozenset({"fact", "keys", "op", "want", "shown", "groups", "absent"})


@dataclass(frozen=True)
class ValueRow:
    """A value check's row from its subject YAML: the fact it reads, how it compares and what it wants."""

    fact: str
    keys: tuple[str, ...]
    op: str
    want: Any  # int, str, (low, high), or a tuple of strings, as the operator needs
    shown: str  # the wanted value as the evidence says it
    groups: tuple[str, ...] = ("root",)  # files: the groups that may own the file
    absent_skips: bool = False  # files: a file the image does not have is a skip, not an error

    def test(self, value: str) -> bool | None:
        """Whether ``value`` is what the row wants; None when it is not a number a number operator needs."""
        if self.op == "in":
            return value in self.want
        if self.op == "none-of":
            return not self.offending(value)
        if self.op == "eq" and isinstance(self.want, str):
            return value == self.want
        number = _number(value, octal=self.op == "mask")
        if number is None:
            return None
        return _NUMBER_TESTS[self.op](number, self.want)

    def offending(self, value: str) -> list[str]:
        """The items of a comma-separated list that match one of the ``none-of`` patterns."""
        return [a for a in value.split(",") if any(fnmatch.fnmatchcase(a, p) for p in self.want)]


_NUMBER_TESTS: dict[str, Callable[[int, Any], bool]] = {
    "eq": lambda v, w: v == w,
    "le": lambda v, w: v <= w,
    "ge": lambda v, w: v >= w,
    "between": lambda v, w: w[0] <= v <= w[1],
    "mask": lambda v, w: v & w == w,
}


def _number(value: str, *, octal: bool = False) -> int | None:
    try:
        return int(value, 8) if octal else int(value)
    except ValueError:
        return None


def _default_shown(op: str, want: Any) -> str:
    if op == "le":
        return f"<= {want}"
    if op == "ge":
        return f">= {want}"
    if op == "between":
        return f"{want[0]} to {want[1]}"
    if op == "mask":
        return f"{want:03o} or stricter"
    if op == "boolean":
        return "yes" if want else "no"
    if isinstance(want, tuple):
        return " or ".join(str(item) for item in want)
    return str(want)


def _want(check_id: str, fact: str, op: str, raw: Any) -> Any:
    """``raw`` checked against what ``op`` needs, in the form the row keeps."""
    where = f"check {check_id}: value row"
    if op in ("any", "none", "present", "enabled", "disabled"):
        if raw is not None:
            raise DataError(f"{where}: op {op} takes no 'want' (its keys are what it asks for)")
        return None
    if op == "boolean":
        if not isinstance(raw, bool):
            raise DataError(f"{where}: boolean wants true or false")
        return raw
    if op == "between":
        if not (isinstance(raw, list) and len(raw) == 2 and all(type(v) is int for v in raw)):
            raise DataError(f"{where}: between wants [low, high] integers")
        return (raw[0], raw[1])
    if op in ("mask", "mode"):
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and set(raw) <= set("01234567")):
            raise DataError(f'{where}: mask wants an octal string such as "027"')
        return int(raw, 8)
    if op == "option":
        if not (isinstance(raw, str) and raw.isascii() and raw.isalpha()):
            raise DataError(f"{where}: option wants a mount option such as nodev")
        return raw
    if op in ("in", "none-of"):
        if not (isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw)):
            raise DataError(f"{where}: {op} wants a non-empty list of strings")
        return tuple(raw)
    if op == "eq" and fact == "sshd" and isinstance(raw, str):
        return raw
    if type(raw) is not int:
        raise DataError(f'{where}: {op} wants an integer (quote sshd words: "no" is not false)')
    return raw


def known_mapping(check_id: str, raw: Any, what: str, allowed: frozenset[str]) -> dict[str, Any]:
    """``raw`` as a mapping of only ``allowed`` keys (a value row, a remediation step), or DataError."""
    if not isinstance(raw, dict):
        raise DataError(f"check {check_id}: {what} must be a mapping")
    unknown = set(raw) - allowed
    if unknown:
        raise DataError(f"check {check_id}: {what} has unknown key(s) {', '.join(sorted(unknown))}")
    return raw


def parse_row(check_id: str, raw: Any) -> ValueRow:
    raw = known_mapping(check_id, raw, "value row", ROW_KEYS)
    fact = raw.get("fact")
    if fact not in FACTS:
        raise DataError(f"check {check_id}: value row fact must be one of {', '.join(FACTS)}")
    op = raw.get("op")
    if op not in OPS[fact]:
        raise DataError(f"check {check_id}: op {op!r} is not one of {', '.join(OPS[fact])} for {fact}")
    keys = raw.get("keys")
    if not (isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)):
        raise DataError(f"check {check_id}: value row keys must be a non-empty list of names")
    want = _want(check_id, fact, op, raw.get("want"))
    shown = raw.get("shown")
    if shown is not None and not isinstance(shown, str):
        raise DataError(f"check {check_id}: value row shown must be text")
    if shown is None and fact == "packages":
        raise DataError(f"check {check_id}: a packages row needs 'shown' (what the packages are)")
    groups, absent = raw.get("groups", ["root"]), raw.get("absent")
    if fact != "files" and "groups" in raw:
        raise DataError(f"check {check_id}: 'groups' belongs to files rows")
    if "absent" in raw and not (fact == "files" or (fact, op) == ("units", "enabled")):
        raise DataError(f"check {check_id}: 'absent' belongs to files rows and units rows of op enabled")
    if not (isinstance(groups, list) and groups and all(isinstance(g, str) for g in groups)):
        raise DataError(f"check {check_id}: value row groups must be a non-empty list of group names")
    if absent not in (None, "skip"):
        raise DataError(f"check {check_id}: value row absent must be 'skip' (or left out: an error)")
    return ValueRow(
        fact, tuple(keys), op, want, shown or _default_shown(op, want), tuple(groups), absent == "skip"
    )


def parse_rows(check_id: str, raw: Any) -> tuple[ValueRow, ...]:
    """A ``value`` entry: one row, or a list of rows that must all pass."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise DataError(f"check {check_id}: value must be a row or a non-empty list of rows")
    return tuple(parse_row(check_id, item) for item in items)


# ---- judging ----------------------------------------------------------------------------------------

Judged = tuple[Status, list[Evidence]]


def _sysctl(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    judged: list[Judged] = []
    for key in row.keys:
        value = facts.sysctl.get(key)
        if isinstance(value, Unknown):
            judged.append((Status.ERROR, [Evidence(value.reason)]))
            continue
        ok = row.test(value.value)
        if ok is None:
            detail = f"{key} = {value.value!r} is not a number ({value.where()})"
            judged.append((Status.ERROR, [Evidence(detail)]))
            continue
        shown = f"{key} = {value.value} ({value.where()}); wanted {row.shown}"
        evidence = [Evidence(shown, value.path, value.line)]
        if value.path is None:  # the kernel's default, not the image's setting: CIS asks for it in a file
            ok = False
            evidence.append(Evidence(f"{key} is not set in any sysctl file: {UNSET_SYSCTL}"))
        if value.running is not None:
            evidence.append(Evidence(f"running kernel: {key} = {value.running}"))
            ok = ok and bool(row.test(value.running))
        judged.append((Status.PASS if ok else Status.FAIL, evidence))
    return judged


def _sshd(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    judged: list[Judged] = []
    for keyword in row.keys:
        setting = config.get(keyword)
        evidence = [setting_evidence(setting)]
        passed = bool(row.test(setting.value))  # a word where a number belongs fails, as sshd refuses it
        for block, override in config.match_overrides(keyword):
            if not row.test(override.value):
                passed = False
                shown = f"Match {block.criteria}: {keyword} {override.value}"
                evidence.append(Evidence(shown, override.path, override.line))
        if not passed and row.op == "none-of" and (found := row.offending(setting.value)):
            evidence.append(Evidence(f"weak: {', '.join(found)}"))
        judged.append((Status.PASS if passed else Status.FAIL, evidence))
    return judged


def _login_defs(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    defs = facts.login_defs
    if isinstance(defs, Unknown):
        return Outcome.of(Status.ERROR, defs.reason)
    judged: list[Judged] = []
    for key in row.keys:
        if key not in defs.values:
            judged.append((Status.FAIL, [Evidence(f"{key} is not set in {defs.path} (wanted {row.shown})")]))
            continue
        value, line = defs.values[key]
        ok = row.test(value) if row.op == "in" or value.lstrip("-").isdigit() else None
        if ok is None:
            judged.append((Status.ERROR, [Evidence(f"{key} {value} is not a number", defs.path, line)]))
            continue
        evidence = Evidence(f"{key} {value}; wanted {row.shown}", defs.path, line)
        judged.append((Status.PASS if ok else Status.FAIL, [evidence]))
    return judged


def installed_packages(facts: Facts) -> dict[str, Package] | Outcome:
    """The installed packages, or the error every "is X installed?" check shares without them."""
    packages = facts.packages
    if packages is None:
        return Outcome.of(Status.ERROR, "no package database in the image")
    if isinstance(packages, Unknown):
        return Outcome.of(Status.ERROR, packages.reason)
    return packages


def _packages(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    packages = installed_packages(facts)
    if isinstance(packages, Outcome):
        return packages
    if row.op == "none":
        found = sorted(name for name in row.keys if name in packages)
        if found:
            return [(Status.FAIL, [Evidence(f"installed: {', '.join(found)}")])]
        return [(Status.PASS, [Evidence(row.shown)])]
    found = [name for name in row.keys if name in packages]
    if found:
        return [(Status.PASS, [Evidence(f"{row.shown}: {', '.join(found)} installed")])]
    return [(Status.FAIL, [Evidence(f"no {row.shown} installed (one of {', '.join(row.keys)})")])]


def _files(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    files = facts.system_files
    judged: list[Judged] = []
    for path in row.keys:
        if row.absent_skips and path not in files.present:
            continue  # each file that is there is judged; the row skips only when none is
        outcome = file_mode(files, path, row.want, row.groups)
        judged.append((outcome.status, list(outcome.evidence)))
    if not judged:
        if len(row.keys) == 1:
            return Outcome.of(Status.SKIP, f"{row.keys[0]} does not exist in the image")
        return Outcome.of(Status.SKIP, f"none of {', '.join(row.keys)} exists in the image")
    return judged


def mount_table(facts: Facts) -> Mounts | Outcome:
    """The image's mounts, or the skip every mount check shares for a container image (its mounts are
    the runtime's, not the image's)."""
    if facts.image is not None:
        return Outcome.of(Status.SKIP, "a container image has no mount table of its own")
    mounts = facts.mounts
    if mounts.fstab_error is not None:
        return Outcome.of(Status.ERROR, mounts.fstab_error)
    return mounts


def _mounts(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    mounts = mount_table(facts)
    if isinstance(mounts, Outcome):
        return mounts
    from imagevet.facts.mounts import FSTAB, has_option  # already imported by the fact

    judged: list[Judged] = []
    for point in row.keys:
        entry, elsewhere = mounts.effective(point), mounts.without_fstab(point)
        if entry is not None:
            options, where, line = entry.options, FSTAB, entry.line
        elif isinstance(elsewhere, Unknown):
            judged.append((Status.ERROR, [Evidence(elsewhere.reason)]))
            continue
        elif elsewhere is not None:
            (options, where), line = elsewhere, None
        elif point == "/dev/shm":
            return Outcome.of(Status.SKIP, DEV_SHM_UNKNOWN)
        else:
            return Outcome.of(Status.SKIP, f"{point} is not a separate mount (no /etc/fstab entry)")
        status = Status.PASS if has_option(options, row.want) else Status.FAIL
        by = " by systemd itself (no /etc/fstab line)" if point == "/dev/shm" and line is None else ""
        shown = f"{point} mounted{by} with {','.join(options)}; wanted {row.want}"
        judged.append((status, [Evidence(shown, where, line)]))
    return judged


_JUDGES: dict[str, Callable[[Facts, ValueRow], list[Judged] | Outcome]] = {
    "sysctl": _sysctl,
    "sshd": _sshd,
    "login.defs": _login_defs,
    "packages": _packages,
    "files": _files,
    "mounts": _mounts,
    "pwquality": pwquality_judged,
    "journald": journald_judged,
    "units": units_judged,
}


def judge(rows: tuple[ValueRow, ...], facts: Facts) -> Outcome:
    """The outcome of a value check: every key of every row judged, the worst status winning."""
    judged: list[Judged] = []
    for row in rows:
        result = _JUDGES[row.fact](facts, row)
        if isinstance(result, Outcome):
            return result
        judged += result
    return Outcome(worst(s for s, _ in judged), tuple(e for _, items in judged for e in items))
