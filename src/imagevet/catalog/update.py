"""Refresh lifecycle dates from endoflife.date's public API into a user override file.

The bundled catalog stays the offline default. `imagevet catalog update` downloads one JSON document per
product (``{base}/{product}.json``: a list of release cycles with ``cycle``, ``releaseDate``, ``eol`` and
``extendedSupport``, each a date or a boolean), validates all of them, and only then writes the override
file atomically: a failed or partial download changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from imagevet.catalog.store import OVERRIDE_FILE
from imagevet.errors import ImagevetError

DEFAULT_BASE_URL = "https://endoflife.date/api"
MAX_RESPONSE_BYTES = 4 * 1024 * 1024

# endoflife.date product -> (catalog release-id prefix, whether our "eol" is their extendedSupport).
# Debian: our eol is the end of the free LTS, which endoflife.date records as extendedSupport.
PRODUCTS: dict[str, tuple[str, bool]] = {
    "ubuntu": ("ubuntu", False),
    "debian": ("debian", True),
    "rhel": ("rhel", False),
    "centos": ("centos", False),
    "centos-stream": ("centos-stream", False),
    "rocky-linux": ("rocky", False),
    "almalinux": ("almalinux", False),
    "oracle-linux": ("ol", False),
    "amazon-linux": ("amzn", False),
}


class UpdateError(ImagevetError):
    """The download or the downloaded data is unusable; nothing was changed."""


def _date(value: Any) -> dt.date | None:
    """endoflife.date gives a date string, or a boolean when no date is known."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def overrides_from_product(product: str, payload: Any, known: set[str]) -> dict[str, dict[str, str]]:
    """Map one product's cycles to override entries for releases the catalog knows."""
    prefix, eol_is_extended = PRODUCTS[product]
    if not isinstance(payload, list):
        raise UpdateError(f"{product}: expected a list of release cycles")
    entries: dict[str, dict[str, str]] = {}
    for cycle in payload:
        if not isinstance(cycle, dict) or not isinstance(cycle.get("cycle"), str | int | float):
            raise UpdateError(f"{product}: a release cycle without a 'cycle' name")
        release_id = f"{prefix}-{cycle['cycle']}"
        if release_id not in known:
            continue
        fields: dict[str, str] = {}
        released = _date(cycle.get("releaseDate"))
        eol = _date(cycle.get("extendedSupport") if eol_is_extended else cycle.get("eol"))
        extended = None if eol_is_extended else _date(cycle.get("extendedSupport"))
        if released:
            fields["released"] = released.isoformat()
        if eol:
            fields["eol"] = eol.isoformat()
        if extended and eol and extended >= eol:
            fields["extended_eol"] = extended.isoformat()
        if fields:
            entries[release_id] = fields
    return entries


def fetch_json(url: str, timeout: float) -> Any:
    """GET a JSON document, size-capped; any network or format problem is an UpdateError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "imagevet"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UpdateError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpdateError(f"{url}: {reason}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise UpdateError(f"{url}: response larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UpdateError(f"{url}: not valid JSON ({exc})") from exc


def download_overrides(
    base_url: str,
    known: set[str],
    timeout: float = 20.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Download every product; raise on the first failure so that nothing partial is kept."""
    entries: dict[str, dict[str, str]] = {}
    for product in PRODUCTS:
        if progress is not None:
            progress(product)
        payload = fetch_json(f"{base_url.rstrip('/')}/{product}.json", timeout)
        entries.update(overrides_from_product(product, payload, known))
    return entries


def write_overrides(path: Path, entries: dict[str, dict[str, str]], source: str, fetched: dt.date) -> None:
    """Write the override file atomically (temporary file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"source": source, "fetched": fetched.isoformat(), "releases": entries}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(document, handle, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_override_meta(text: str) -> tuple[str | None, str | None]:
    """(source, fetched) recorded in an override file, for `catalog show`; (None, None) when unreadable."""
    from imagevet.catalog.loader import OVERRIDE_LIMITS
    from imagevet.catalog.safe_yaml import load

    try:
        doc = load(text, OVERRIDE_FILE, UpdateError, OVERRIDE_LIMITS)
        if not isinstance(doc.root, yaml.MappingNode):
            return None, None
        meta = {
            key: str(value.value)
            for key, _, value in doc.mapping(doc.root, "the top level")
            if key in ("source", "fetched") and isinstance(value, yaml.ScalarNode)
        }
    except ImagevetError:
        return None, None
    return meta.get("source"), meta.get("fetched")
