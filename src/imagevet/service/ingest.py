"""Turning the CLI's own JSON documents into rows, refusing any the service could not keep or show.

A report is checked whole before anything is stored: every field the service reads or shows (the OS, the
audit's summary and results, the packages, the findings) must have the documented type and fit its column,
so that a stored report can never fail a later page, rescan or API answer. Fields the service does not
use are kept as they came. Messages name the field by its position (``packages[3].version``), never by
its content. Pure functions over parsed documents; the routes do the database work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imagevet.catalog.lifecycle import release_id_for
from imagevet.errors import ImagevetError
from imagevet.model import OsRelease
from imagevet.report import json_report
from imagevet.report import packages as packages_report
from imagevet.report import vuln as vuln_report
from imagevet.service.vocabulary import FINDING_SEVERITIES

# The documents the service takes, named as the CLI writes them.
AUDIT, PACKAGES, VULN = json_report.SCHEMA, packages_report.SCHEMA, vuln_report.SCHEMA
SCHEMAS = (AUDIT, PACKAGES, VULN)
MAX_ITEMS = 200_000  # packages or findings in one report: ten times a large distribution's archive
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(FINDING_SEVERITIES)}
RELEASE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")  # os-release(5) ID and VERSION_ID characters


class ValidationError(ImagevetError):
    """A document the service cannot take: unknown schema, a missing field, a wrong type, too long."""


DocumentError = ValidationError  # the earlier name

# The widths of the inventory's columns (service/db.py): PostgreSQL enforces them, so a longer value is the
# document's fault (422), not the server's (500).
PACKAGE_WIDTHS = {"name": 256, "version": 256, "source": 256, "source_version": 256, "arch": 32,
                  "purl": 4096, "type": 8}  # fmt: skip
FINDING_WIDTHS = {"vuln_id": 128, "package": 256, "installed": 256, "fixed": 256, "severity": 16}


@dataclass(frozen=True)
class Document:
    """A checked report: what the service stores from it."""

    schema: str
    os: OsRelease | None
    packages: list[dict[str, str]]
    findings: list[dict[str, Any]]


def check_document(document: Any) -> Document:
    """The rows of ``document``; ValidationError naming the first problem."""
    schema = schema_of(document)
    os = os_of(document)
    packages = packages_of(document) if schema == PACKAGES else []
    findings = findings_of(document) if schema == VULN else []
    if schema == AUDIT:
        check_audit(document)
    return Document(schema, os, packages, findings)


def schema_of(document: Any) -> str:
    if not isinstance(document, dict) or document.get("schema") not in SCHEMAS:
        raise ValidationError(f"schema must be one of {', '.join(SCHEMAS)}")
    return str(document["schema"])


def _text(
    item: dict[str, Any], key: str, where: str, width: int | None = None, required: bool = False
) -> str:
    """A string member ('' when absent or null, unless required)."""
    value = item.get(key)
    if value is None or (required and value == ""):
        if required:
            raise ValidationError(f"{where}.{key} is required")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{where}.{key} is not a string")
    if width is not None and len(value) > width:
        raise ValidationError(f"{where}.{key} is longer than {width} characters")
    return value


def _list(document: dict[str, Any], key: str, where: str, required: bool = False) -> list[Any]:
    value = document.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{where}{key} is {'missing or ' if required else ''}not a list")
    if len(value) > MAX_ITEMS:
        raise ValidationError(f"{where}{key} has more than {MAX_ITEMS} entries")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} is not an object")
    return value


def os_of(document: dict[str, Any]) -> OsRelease | None:
    """The report's ``os`` (null when the CLI could not read os-release)."""
    raw = document.get("os")
    if raw is None:
        return None
    raw = _object(raw, "os")
    fields = {
        key: _text(raw, key, "os", 256) for key in ("id", "version_id", "name", "pretty_name", "family")
    }
    id_like = raw.get("id_like") or []
    if not isinstance(id_like, list) or not all(isinstance(i, str) and len(i) <= 64 for i in id_like):
        raise ValidationError("os.id_like is not a list of short strings")
    if not fields["id"]:
        return None
    return OsRelease(
        id=fields["id"], version_id=fields["version_id"], name=fields["name"],
        pretty_name=fields["pretty_name"], variant="", version_codename="", id_like=tuple(id_like),
        family=fields["family"], source="report",
    )  # fmt: skip


def release_of(os: OsRelease | None) -> str | None:
    """The catalog's release id for the report's OS (``debian-12``), or None when it names none."""
    if os is None or not os.version_id:
        return None
    release = release_id_for(os)
    return release if RELEASE.match(release) else None


def packages_of(document: dict[str, Any]) -> list[dict[str, str]]:
    """The inventory rows. A packages report replaces the stored inventory, so one without a list of
    packages is refused rather than taken for an empty image."""
    rows = []
    for number, raw in enumerate(_list(document, "packages", "", required=True)):
        where = f"packages[{number}]"
        item = _object(raw, where)
        row = {key: _text(item, key, where, PACKAGE_WIDTHS[key], key in ("name", "version"))
               for key in ("name", "version", "source", "source_version", "arch", "purl")}  # fmt: skip
        row["type"] = _text(item, "type", where, PACKAGE_WIDTHS["type"]) or "deb"
        rows.append(row)
    return rows


def findings_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings rows, one per (advisory, package): the same finding twice (a multilib package, listed
    once per architecture) is merged: the aliases of both, the higher severity, and no fixed version
    unless both have one."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for number, raw in enumerate(_list(document, "findings", "", required=True)):
        where = f"findings[{number}]"
        item = _object(raw, where)
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and len(a) <= 128 for a in aliases):
            raise ValidationError(f"{where}.aliases is not a list of strings of at most 128 characters")
        waiver = item.get("waiver")
        if waiver is not None and not isinstance(waiver, dict):
            raise ValidationError(f"{where}.waiver is not an object or null")
        row: dict[str, Any] = {
            "vuln_id": _text(item, "id", where, FINDING_WIDTHS["vuln_id"], required=True),
            "aliases": list(aliases),
            "package": _text(item, "package", where, FINDING_WIDTHS["package"], required=True),
            "installed": _text(item, "installed", where, FINDING_WIDTHS["installed"]),
            "fixed": _text(item, "fixed", where, FINDING_WIDTHS["fixed"]) or None,
            "severity": _text(item, "severity", where, FINDING_WIDTHS["severity"]) or "unknown",
        }
        if waiver:
            continue  # accepted risk: kept in the report, not counted as exposure
        key = (str(row["vuln_id"]), str(row["package"]))
        if key in merged:
            merged[key] = _merge(merged[key], row)
        else:
            merged[key] = row
    return list(merged.values())


def _merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    aliases = list(dict.fromkeys([*first["aliases"], *second["aliases"]]))
    rank = SEVERITY_RANK.get
    severity = max(first["severity"], second["severity"], key=lambda s: rank(s.lower(), 0))
    fixed = first["fixed"] if first["fixed"] and second["fixed"] else None
    return {**first, "aliases": aliases, "severity": severity, "fixed": fixed}


def check_audit(document: dict[str, Any]) -> None:
    """What the dashboard shows of an audit: the summary's counts and each result's texts."""
    summary = document.get("summary")
    if summary is not None:
        for key, value in _object(summary, "summary").items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"summary.{_field(key)} is not a count")
    for number, raw in enumerate(_list(document, "results", "")):
        where = f"results[{number}]"
        result = _object(raw, where)
        for key in ("check", "title", "status", "severity", "rationale"):
            _text(result, key, where)
        for index, step in enumerate(_list(result, "evidence", f"{where}.")):
            evidence = _object(step, f"{where}.evidence[{index}]")
            _text(evidence, "detail", f"{where}.evidence[{index}]")
            _text(evidence, "path", f"{where}.evidence[{index}]")
            line = evidence.get("line")
            if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
                raise ValidationError(f"{where}.evidence[{index}].line is not an integer or null")
        for index, step in enumerate(_list(result, "remediation", f"{where}.")):
            fix = _object(step, f"{where}.remediation[{index}]")
            for key in ("kind", "run", "path", "content", "note"):
                _text(fix, key, f"{where}.remediation[{index}]")


def _field(key: str) -> str:
    """A summary key as it may be shown: the documented ones by name, any other by kind only."""
    return key if key in ("pass", "fail", "skip", "error", "waived") else "(an unknown key)"


def audit_summary(document: Any) -> dict[str, int]:
    """The counts of a stored audit, whatever was stored (reports kept before the service checked them
    included): anything but a count is left out."""
    summary = document.get("summary") if isinstance(document, dict) else None
    if not isinstance(summary, dict):
        return {}
    return {
        str(k): v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool) and v >= 0
    }
