"""Waivers: accepted risks that turn a failing check into ``waived`` until they expire.

File format (YAML)::

    waivers:
      - check: ssh-root-login        # a check id (required)
        reason: "break-glass access, ticket OPS-123"   # required, non-empty
        expires: 2027-03-31          # optional date, YYYY-MM-DD; after it the waiver is ignored with a notice

A malformed file is an error (exit 2), never silently ignored: a typo must not re-open the gate. Every
refusal names the file and the line (``waivers.yaml: line 7: waiver #2: ...``) and never quotes the file:
a date that does not exist (``2027-02-30``, month 13), a date with a time of day, a value of the wrong
type, an unknown key, two waivers for the same check, two values for one key. The file is parsed within
fixed bounds (size, nesting, aliases: :mod:`imagevet.catalog.safe_yaml`).

`imagevet vuln` uses the same file shape with ``id`` (an advisory or CVE id) instead of ``check``, and
requires ``expires``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagevet import lazy
from imagevet.catalog.safe_yaml import Document, Limits, load
from imagevet.errors import WaiverError
from imagevet.model import Waiver

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy.module("yaml")  # imported on first use (imagevet/lazy.py)

LIMITS = Limits(max_chars=512 * 1024, max_depth=8, max_aliases=100, max_entries=100_000)
MAX_REASON = 2000
# Check ids are kebab-case; advisory ids look like CVE-2024-1234, GHSA-xxxx-xxxx-xxxx, RHSA-2024:1234,
# DLA-3000-1, ALSA-2022:1065. Both are echoed in notices, so both keep to a plain alphabet.
_IDS = {
    "check": (re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", re.ASCII), "a check id (letters, digits, '-')"),
    "id": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}", re.ASCII),
        "an advisory id such as CVE-2024-1234",
    ),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class WaiverSet:
    """The waivers in force today, and the notices about the others (expired, unknown checks)."""

    active: dict[str, Waiver]
    notices: tuple[str, ...]


def _text(doc: Document, node: yaml.Node, where: str, field: str) -> str:
    value = doc.text(node, f"{where}: '{field}'").strip()
    if _CONTROL.search(value):
        raise doc.fail(node, f"{where}: '{field}' contains control characters")
    return value


def _entry(doc: Document, index: int, node: yaml.Node, key: str, expiry_required: bool) -> Waiver:
    where = f"waiver #{index + 1}"
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, f"{where} must be a mapping with {key}, reason and expires")
    fields: dict[str, yaml.Node] = {}
    for name, key_node, value_node in doc.mapping(node, where):
        if name not in (key, "reason", "expires"):
            raise doc.fail(key_node, f"{where} has an unknown field (allowed: {key}, reason, expires)")
        fields[name] = value_node
    if Document.is_null(fields.get(key)):
        raise doc.fail(node, f"{where} needs a '{key}'")
    ident = _text(doc, fields[key], where, key)
    pattern, kind = _IDS[key]
    if not pattern.fullmatch(ident):
        raise doc.fail(fields[key], f"{where}: '{key}' must be {kind}")
    reason_node = fields.get("reason", node)  # the entry itself when the field is missing
    missing = reason_node is node or Document.is_null(reason_node)
    reason = "" if missing else _text(doc, reason_node, where, "reason")
    if not reason:
        raise doc.fail(reason_node, f"{where} needs a non-empty 'reason'")
    if len(reason) > MAX_REASON:
        raise doc.fail(reason_node, f"{where}: 'reason' is longer than {MAX_REASON} characters")
    expires_node = fields.get("expires")
    if Document.is_null(expires_node):
        if expiry_required:
            raise doc.fail(expires_node or node, f"{where} needs an 'expires' date")
        return Waiver(ident, reason, None)
    assert expires_node is not None
    return Waiver(ident, reason, doc.date(expires_node, f"{where}: 'expires'"))


def _waivers(text: str, source: str, key: str, expiry_required: bool) -> list[Waiver]:
    doc = load(text, source, WaiverError, LIMITS)
    root = doc.root
    if Document.is_null(root):
        return []
    assert root is not None
    entries_node: yaml.Node | None = root
    if isinstance(root, yaml.MappingNode):
        entries_node = None
        for name, key_node, value_node in doc.mapping(root, "the top level"):
            if name != "waivers":
                raise doc.fail(key_node, "unknown top-level key: the only top-level key is 'waivers'")
            entries_node = value_node
        if Document.is_null(entries_node):
            return []
    assert entries_node is not None
    if not isinstance(entries_node, yaml.SequenceNode):
        raise doc.fail(entries_node, "the file must hold a list under 'waivers'")
    waivers: list[Waiver] = []
    first_line: dict[str, tuple[int, int]] = {}
    for index, node in enumerate(doc.sequence(entries_node, "'waivers'")):
        waiver = _entry(doc, index, node, key, expiry_required)
        if waiver.check in first_line:
            number, line = first_line[waiver.check]
            raise doc.fail(node, f"waiver #{index + 1} repeats the {key} of waiver #{number} (line {line})")
        first_line[waiver.check] = (index + 1, node.start_mark.line + 1)
        waivers.append(waiver)
    return waivers


def _active(waivers: list[Waiver], known: set[str] | None, as_of: dt.date, what: str) -> WaiverSet:
    active: dict[str, Waiver] = {}
    notices: list[str] = []
    for waiver in waivers:
        if known is not None and waiver.check not in known:
            notices.append(f"waiver for unknown {what} {waiver.check!r} ignored")
            continue
        if waiver.expires is not None and waiver.expires < as_of:
            notices.append(
                f"waiver for {waiver.check} expired on {waiver.expires.isoformat()} and is ignored"
            )
            continue
        active[waiver.check] = waiver
    return WaiverSet(active, tuple(notices))


def parse_waivers(
    text: str, known_checks: set[str], as_of: dt.date, source: str = "waiver file"
) -> WaiverSet:
    """Audit waivers: ``check`` and ``reason`` required, ``expires`` optional.

    ``source`` names the file in error messages (the CLI passes the path the user gave).
    """
    return _active(_waivers(text, source, "check", False), known_checks, as_of, "check")


def parse_vuln_waivers(text: str, as_of: dt.date, source: str = "waiver file") -> WaiverSet:
    """Vulnerability waivers: ``id`` (an advisory or CVE id), ``reason`` and ``expires`` all required."""
    return _active(_waivers(text, source, "id", True), None, as_of, "id")
