"""The built-in release lifecycle table and the lookup from an os-release identity to its entry."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from imagevet.errors import DataError
from imagevet.model import OsRelease


@dataclass(frozen=True)
class Release:
    id: str
    version: str
    lts: bool
    released: dt.date
    security_support_end: dt.date
    extended_support_end: dt.date | None
    extended_support: str | None
    source: str

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"


def _date(entry: dict[str, Any], key: str, required: bool) -> dt.date | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if isinstance(value, dt.date):
        return value
    raise DataError(f"lifecycle table: {entry.get('id')} {entry.get('version')}: {key} must be a date")


def parse_table(data: Any) -> tuple[Release, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise DataError("lifecycle table: top level must be a mapping with a 'releases' list")
    releases = []
    for entry in data["releases"]:
        try:
            released = _date(entry, "released", True)
            security_end = _date(entry, "security_support_end", True)
            assert released is not None and security_end is not None
            releases.append(
                Release(
                    id=str(entry["id"]),
                    version=str(entry["version"]),
                    lts=bool(entry["lts"]),
                    released=released,
                    security_support_end=security_end,
                    extended_support_end=_date(entry, "extended_support_end", False),
                    extended_support=entry.get("extended_support"),
                    source=str(entry["source"]),
                )
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"lifecycle table: malformed entry {entry!r}: {exc}") from exc
    return tuple(releases)


@functools.cache
def builtin_table() -> tuple[Release, ...]:
    text = resources.files("imagevet.catalog").joinpath("lifecycle.yaml").read_text(encoding="utf-8")
    return parse_table(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def lifecycle_key(os: OsRelease) -> tuple[str, str]:
    """The (id, version) under which a release is listed: major versions for most distros."""
    os_id = os.id
    version = os.version_id
    if os_id == "centos" and "stream" in os.name.lower():
        os_id = "centos-stream"
    if os_id in ("ubuntu", "sles", "opensuse-leap", "openeuler"):
        return os_id, version
    return os_id, version.split(".", 1)[0]


def find_release(os: OsRelease, table: tuple[Release, ...] | None = None) -> Release | None:
    key = lifecycle_key(os)
    for release in table if table is not None else builtin_table():
        if (release.id, release.version) == key:
            return release
    return None
