"""Loading and validating check metadata: one ``<subject>.yaml`` per subject (ssh.yaml, sysctl.yaml ...),
read together and checked against the registry.

Everything that would otherwise go wrong quietly is an error at load: a key the loader does not know (a
misspelt ``remediaton`` would drop the fix), the same id twice (in one file, where YAML would keep the
last, or in two), an id outside the prefixes its file owns (it would be in the wrong room), a registered
check without metadata or metadata without a registered check, and a value row on a Python check or a
row check without one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imagevet import knowledge, packaged
from imagevet.checks.login_defs_fix import login_defs_command
from imagevet.checks.package_fix import purge_command, removal_names
from imagevet.checks.sudo_fix import negation_removal_command, timeout_cap_command
from imagevet.checks.values import ValueRow, known_mapping, parse_rows
from imagevet.errors import DataError
from imagevet.model import RemediationStep, Severity

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
FAMILIES = ("debian", "rhel", "suse", "alpine", "default")
# The subject files, each beside its module (a subject made only of value rows has no module).
SUBJECTS = (
    "system",
    "ssh",
    "accounts",
    "sysctl",
    "files",
    "packages",
    "sudo",
    "cloud",
    "lifecycle",
    "services",
)
FILE_KEYS = frozenset({"prefixes", "checks", "data"})
RECORD_KEYS = frozenset({"title", "severity", "rationale", "remediation", "references", "value"})
REQUIRED_KEYS = RECORD_KEYS - {"value"}
STEP_KEYS = frozenset(
    {
        "run",
        "file",
        "content",
        "note",
        "when",
        "fstab",
        "purge",
        "sudoers-negation",
        "sudoers-timeout",
        "login-defs",
        "pwquality",
        "journald",
        "sysctl-override",
        "umask-files",
    }
)


@dataclass(frozen=True)
class CheckMeta:
    """A check's metadata: title, severity, rationale, pasteable remediation, references and its value row."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: dict[str, tuple[RemediationStep, ...]]
    references: tuple[str, ...]
    value: tuple[ValueRow, ...] = ()  # a value check's rows (checks/values.py); () for a Python check
    subject: str = ""  # the file it was read from, without .yaml

    def remediation_for(self, family: str) -> tuple[RemediationStep, ...]:
        """Steps for the image's OS family, falling back to the generic ones."""
        return self.remediation.get(family) or self.remediation.get("default") or ()


@functools.cache
def _unique_key_loader() -> Any:
    """A safe loader that refuses a mapping with the same key twice (YAML would keep the last). Built on
    first use: with the knowledge cache warm, a run never imports PyYAML (issue 19)."""
    import yaml

    class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    def unique_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise DataError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
            seen.add(key)
        result: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
        return result

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, unique_mapping)
    return UniqueKeyLoader


def _unique_keys(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_unique_key_loader())
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}") from exc


def load_yaml(text: str, name: str) -> Any:
    try:
        return knowledge.parsed("yaml-unique-keys", text, _unique_keys)  # refuses duplicate keys
    except DataError as exc:
        raise DataError(f"{name}: {exc}") from exc


def _generated(check_id: str, raw: Mapping[str, Any], judged: tuple[str, ...]) -> str | None:
    """The command a generated step names, written once in its own module: an fstab option
    (checks/fstab_fix.py), a package removal of the row's own names (checks/package_fix.py), a sudoers
    negation removed or the sudo timeout capped (checks/sudo_fix.py), a login.defs setting
    (checks/login_defs_fix.py), a pwquality or journald setting (checks/conf_fix.py); None for any
    other step. A generator's refusal names the check."""
    fstab = None
    if "fstab" in raw:
        fstab = known_mapping(check_id, raw["fstab"], "fstab step", frozenset({"mount", "option", "add"}))
        if not {"mount", "option"} <= set(fstab):
            raise DataError(f"check {check_id}: an fstab step needs mount and option")
    try:
        if fstab is not None:
            from imagevet.checks.fstab_fix import fstab_option_command

            add = str(fstab["add"]) if "add" in fstab else None
            return fstab_option_command(str(fstab["mount"]), str(fstab["option"]), add)
        if "purge" in raw:
            return purge_command(str(raw["purge"]), judged)
        if "sudoers-negation" in raw:
            return negation_removal_command(str(raw["sudoers-negation"]))
        if "login-defs" in raw:
            setting = raw["login-defs"]
            if not isinstance(setting, dict) or len(setting) != 1:
                raise DataError("a login-defs step names one setting: {KEY: value}")
            ((key, value),) = setting.items()
            return login_defs_command(str(key), str(value))
        if "umask-files" in raw:
            from imagevet.checks.umask_fix import umask_files_command

            paths = raw["umask-files"]
            if not isinstance(paths, list):
                raise DataError(f"a umask-files step names a list of paths, not {paths!r}")
            return umask_files_command([str(path) for path in paths])
        if "sysctl-override" in raw:
            from imagevet.checks.sysctl_fix import override_command

            step = known_mapping(
                check_id, raw["sysctl-override"], "sysctl-override step", frozenset({"file", "keys"})
            )
            return override_command(step.get("keys", []), str(step.get("file", "")))
        for kind in ("pwquality", "journald"):
            if kind in raw:
                return _conf_setting(kind, raw[kind])
        if "sudoers-timeout" in raw:
            minutes = raw["sudoers-timeout"]
            if not isinstance(minutes, int) or isinstance(minutes, bool):
                raise DataError(f"a sudoers-timeout step needs a number of minutes, not {minutes!r}")
            return timeout_cap_command(minutes)
    except DataError as exc:
        raise DataError(f"check {check_id}: {exc}") from exc
    return None


def _conf_setting(kind: str, raw: Any) -> str:
    """A ``pwquality: {key: value}`` or ``journald: {Key: value}`` step (checks/conf_fix.py); a
    pwquality flag is named alone, ``pwquality: enforce_for_root``."""
    from imagevet.checks.conf_fix import journald_command, pwquality_command

    if kind == "pwquality" and isinstance(raw, str):
        return pwquality_command(raw, None)
    if not isinstance(raw, dict) or len(raw) != 1:
        raise DataError(f"a {kind} step names one setting: {{key: value}}")
    ((key, value),) = raw.items()
    if isinstance(value, bool):
        raise DataError(f'a {kind} step wants its value quoted ({key}: "yes"), not a YAML boolean')
    maker = pwquality_command if kind == "pwquality" else journald_command
    return maker(str(key), str(value))


def _step(check_id: str, raw: Any, judged: tuple[str, ...] = ()) -> RemediationStep:
    """One step; ``judged`` are the packages a removal row fails on (what a ``purge`` step removes)."""
    raw = known_mapping(check_id, raw, "remediation step", STEP_KEYS)
    note = str(raw.get("note", ""))
    when = str(raw.get("when", ""))
    if when not in ("", "running"):
        raise DataError(f"check {check_id}: remediation 'when' must be 'running'")
    if "run" in raw:
        return RemediationStep("command", str(raw["run"]), None, note, when)
    command = _generated(check_id, raw, judged)
    if command is not None:
        return RemediationStep("command", command, None, note, when)
    if "file" in raw and "content" in raw:
        return RemediationStep("file", str(raw["content"]), str(raw["file"]), note)
    if note:
        return RemediationStep("note", note, None, "")
    raise DataError(
        f"check {check_id}: remediation step needs 'run', 'fstab', 'purge', 'sudoers-negation',"
        " 'sudoers-timeout', 'login-defs', 'pwquality', 'journald', 'sysctl-override', 'umask-files',"
        " 'file' with 'content', or 'note'"
    )


def parse_record(check_id: str, record: Any, subject: str = "") -> CheckMeta:
    if not isinstance(check_id, str) or not _ID.fullmatch(check_id):
        raise DataError(f"check metadata: id {check_id!r} is not kebab-case")
    if not isinstance(record, dict):
        raise DataError(f"check {check_id}: record must be a mapping")
    missing = REQUIRED_KEYS - set(record)
    if missing:
        raise DataError(f"check {check_id}: missing {', '.join(sorted(missing))}")
    unknown = set(record) - RECORD_KEYS
    if unknown:
        raise DataError(f"check {check_id}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        severity = Severity(record["severity"])
    except ValueError as exc:
        raise DataError(f"check {check_id}: unknown severity {record['severity']!r}") from exc
    remediation_raw = record["remediation"]
    if not isinstance(remediation_raw, dict) or not set(remediation_raw) <= set(FAMILIES):
        raise DataError(f"check {check_id}: remediation keys must be among {', '.join(FAMILIES)}")
    value = parse_rows(check_id, record["value"]) if "value" in record else ()
    judged = removal_names(value)
    remediation = {
        family: tuple(_step(check_id, step, judged) for step in steps)
        for family, steps in remediation_raw.items()
    }
    references = record["references"]
    if not isinstance(references, list) or not references:
        raise DataError(f"check {check_id}: references must be a non-empty list")
    return CheckMeta(
        id=check_id,
        title=str(record["title"]),
        severity=severity,
        rationale=" ".join(str(record["rationale"]).split()),
        remediation=remediation,
        references=tuple(str(r) for r in references),
        value=value,
        subject=subject,
    )


def parse_metadata(data: Any, subject: str = "") -> dict[str, CheckMeta]:
    """The records of one mapping of check id -> record."""
    if not isinstance(data, dict):
        raise DataError("check metadata: top level must be a mapping of check id to record")
    return {check_id: parse_record(check_id, record, subject) for check_id, record in data.items()}


def _prefixes(name: str, document: dict[str, Any]) -> tuple[str, ...]:
    prefixes = document.get("prefixes")
    if not (isinstance(prefixes, list) and prefixes and all(isinstance(p, str) and p for p in prefixes)):
        raise DataError(f"{name}.yaml: 'prefixes' must be a non-empty list of id prefixes")
    return tuple(prefixes)


def load_subjects(documents: Mapping[str, Any], registry: Mapping[str, bool]) -> dict[str, CheckMeta]:
    """Every subject's records, validated together and against ``registry`` (check id -> whether it is
    judged by its value row), in registry order."""
    owner: dict[str, str] = {}  # prefix -> subject
    found: dict[str, CheckMeta] = {}
    parsed: list[tuple[str, tuple[str, ...], dict[str, CheckMeta]]] = []
    for name, document in documents.items():
        if not isinstance(document, dict):
            raise DataError(f"{name}.yaml: top level must be a mapping")
        unknown = set(document) - FILE_KEYS
        if unknown:
            raise DataError(f"{name}.yaml: unknown key(s) {', '.join(sorted(unknown))}")
        prefixes = _prefixes(name, document)
        for prefix in prefixes:
            if prefix in owner:
                raise DataError(f"{name}.yaml: prefix {prefix!r} is already owned by {owner[prefix]}.yaml")
            owner[prefix] = name
        parsed.append((name, prefixes, parse_metadata(document.get("checks") or {}, name)))
    for name, _, records in parsed:
        for check_id, meta in records.items():
            if check_id in found:
                raise DataError(f"{name}.yaml: check {check_id} is also in {found[check_id].subject}.yaml")
            homes = {owner[p] for p in owner if check_id.startswith(p)}
            if homes != {name}:
                where = " and ".join(f"{h}.yaml" for h in sorted(homes)) or "no subject file"
                raise DataError(f"{name}.yaml: check {check_id}'s prefix belongs to {where}")
            found[check_id] = meta
    unregistered = [c for c in found if c not in registry]
    if unregistered:
        raise DataError(f"check metadata without a registered check: {', '.join(unregistered)}")
    undescribed = [c for c in registry if c not in found]
    if undescribed:
        raise DataError(f"registered check(s) without metadata: {', '.join(undescribed)}")
    for check_id, by_row in registry.items():
        if by_row and not found[check_id].value:
            raise DataError(f"check {check_id} is registered as a value check but has no value row")
        if not by_row and found[check_id].value:
            raise DataError(f"check {check_id} has a value row but is registered with a Python predicate")
    return {check_id: found[check_id] for check_id in registry}


def subject_texts() -> dict[str, str]:
    """The text of every subject file shipped with imagevet."""
    folder = packaged.folder("imagevet.checks")
    return {name: folder.joinpath(f"{name}.yaml").read_text(encoding="utf-8") for name in SUBJECTS}


def subject_documents() -> dict[str, Any]:
    """The parsed YAML of every subject file shipped with imagevet."""
    return {name: load_yaml(text, f"{name}.yaml") for name, text in subject_texts().items()}


@functools.cache
def builtin_metadata() -> dict[str, CheckMeta]:
    """Every check's record, validated once per text of the subject files and imagevet's code
    (knowledge.validated): the registry is code, so the stamp covers it."""
    from imagevet.checks.registry import REGISTRY, ROW  # the registry imports the predicates, not this

    texts = subject_texts()
    registry = {check_id: entry is ROW for check_id, entry in REGISTRY}

    def build() -> dict[str, CheckMeta]:
        documents = {name: load_yaml(text, f"{name}.yaml") for name, text in texts.items()}
        return load_subjects(documents, registry)

    return knowledge.validated("check-metadata", list(texts.values()), build)
