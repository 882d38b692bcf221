"""Typed field readers for the catalog's YAML records: every problem names the file, record and field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from imagevet.catalog.model import Source
from imagevet.errors import DataError

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class Where:
    """Reads one record's fields; each error points at the exact file, record and field."""

    def __init__(self, file: str, record: str) -> None:
        self.file = file
        self.record = record

    def error(self, field: str, problem: str) -> DataError:
        return DataError(f"{self.file}: {self.record}: field '{field}': {problem}")

    def mapping(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise DataError(f"{self.file}: {self.record}: must be a mapping")
        return raw

    def text(self, raw: dict[str, Any], field: str, *, optional: bool = False) -> str:
        value = raw.get(field)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "must be a non-empty string")
        return value

    def choice(self, raw: dict[str, Any], field: str, allowed: tuple[str, ...]) -> str:
        value = self.text(raw, field)
        if value not in allowed:
            raise self.error(field, f"must be one of {', '.join(allowed)}")
        return value

    def date(self, raw: dict[str, Any], field: str) -> dt.date | None:
        if field not in raw:
            raise self.error(field, "is missing (use null when unknown)")
        value = raw[field]
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(field, "must be a YYYY-MM-DD date or null")

    def flag(self, raw: dict[str, Any], field: str, default: bool | None = None) -> bool:
        value = raw.get(field, default)
        if not isinstance(value, bool):
            raise self.error(field, "must be true or false")
        return value

    def strings(
        self, raw: dict[str, Any], field: str, allowed: tuple[str, ...] | None = None
    ) -> tuple[str, ...]:
        value = raw.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "must be a list of strings")
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise self.error(field, f"unknown value(s) {', '.join(bad)} (allowed: {', '.join(allowed)})")
        return tuple(value)

    def source(self, raw: dict[str, Any], field: str, sources: dict[str, Source]) -> Source:
        key = self.text(raw, field)
        if key not in sources:
            raise self.error(field, f"{key!r} is not among this file's sources")
        return sources[key]

    def sources(self, raw: dict[str, Any], field: str, sources: dict[str, Source]) -> tuple[Source, ...]:
        keys = self.strings(raw, field)
        if not keys:
            raise self.error(field, "must cite at least one of this file's sources")
        unknown = [k for k in keys if k not in sources]
        if unknown:
            raise self.error(field, f"{', '.join(map(repr, unknown))} not among this file's sources")
        return tuple(sources[k] for k in keys)


def parse_sources(file: str, raw: Any) -> dict[str, Source]:
    """A file's ``sources`` mapping: key -> {url, checked}; URLs must be http(s) pages, not nicknames."""
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{file}: 'sources' must be a non-empty mapping of key -> {{url, checked}}")
    sources = {}
    for key, value in raw.items():
        where = Where(file, f"sources.{key}")
        record = where.mapping(value)
        url = where.text(record, "url")
        if not re.fullmatch(r"https?://[^\s]+", url):
            raise where.error("url", "must be an http(s) URL")
        checked = where.date(record, "checked")
        if checked is None:
            raise where.error("checked", "must be the day the source was read")
        sources[str(key)] = Source(url, checked)
    return sources
