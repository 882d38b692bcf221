"""Waivers: accepted risks that turn a failing check into ``waived`` until they expire.

File format (YAML)::

    waivers:
      - check: ssh-root-login        # a check id (required)
        reason: "break-glass access, ticket OPS-123"   # required, non-empty
        expires: 2027-03-31          # optional ISO date; after it the waiver is ignored with a notice

A malformed file is an error (exit 2), never silently ignored: a typo must not re-open the gate.
`imagevet vuln` uses the same file shape with ``id`` (an advisory or CVE id) instead of ``check``, and
requires ``expires``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml

from imagevet.errors import WaiverError
from imagevet.model import Waiver


@dataclass(frozen=True)
class WaiverSet:
    active: dict[str, Waiver]
    notices: tuple[str, ...]


def _parse_entry(index: int, raw: Any, key: str = "check", expiry_required: bool = False) -> Waiver:
    where = f"waiver #{index + 1}"
    if not isinstance(raw, dict):
        raise WaiverError(f"{where} must be a mapping with {key}, reason and expires")
    unknown = set(raw) - {key, "reason", "expires"}
    if unknown:
        raise WaiverError(f"{where} has unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    check = raw.get(key)
    if not isinstance(check, str) or not check.strip():
        raise WaiverError(f"{where} needs a '{key}'")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise WaiverError(f"{where} ({check}) needs a non-empty 'reason'")
    expires = raw.get("expires")
    if expires is None and expiry_required:
        raise WaiverError(f"{where} ({check}) needs an 'expires' date")
    if expires is not None:
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        elif isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as exc:
                raise WaiverError(f"{where} ({check}): expires {expires!r} is not a YYYY-MM-DD date") from exc
        elif not isinstance(expires, dt.date):
            raise WaiverError(f"{where} ({check}): expires must be a YYYY-MM-DD date")
    return Waiver(check.strip(), reason.strip(), expires)


def _entries(text: str) -> list[Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise WaiverError(f"waiver file is not valid YAML{where}") from exc
    if data is None:
        return []
    entries = data.get("waivers") if isinstance(data, dict) else data
    if isinstance(data, dict) and set(data) - {"waivers"}:
        raise WaiverError("waiver file: the only top-level key is 'waivers'")
    if not isinstance(entries, list):
        raise WaiverError("waiver file must hold a list under 'waivers'")
    return entries


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


def parse_waivers(text: str, known_checks: set[str], as_of: dt.date) -> WaiverSet:
    """Audit waivers: ``check`` and ``reason`` required, ``expires`` optional."""
    waivers = [_parse_entry(i, raw) for i, raw in enumerate(_entries(text))]
    return _active(waivers, known_checks, as_of, "check")


def parse_vuln_waivers(text: str, as_of: dt.date) -> WaiverSet:
    """Vulnerability waivers: ``id`` (an advisory or CVE id), ``reason`` and ``expires`` all required."""
    waivers = [_parse_entry(i, raw, key="id", expiry_required=True) for i, raw in enumerate(_entries(text))]
    return _active(waivers, None, as_of, "id")
