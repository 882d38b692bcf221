"""Download OSV's per-ecosystem ``all.zip`` archives, verify them, and import them atomically."""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from imagevet.errors import ImagevetError
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Alpine", "Red Hat", "SUSE", "openSUSE")
CHUNK = 1 << 16
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024


class DownloadError(ImagevetError):
    """A download failed or produced an unusable archive; the database was not changed."""


def archive_url(base_url: str, ecosystem: str) -> str:
    return f"{base_url.rstrip('/')}/{urllib.parse.quote(ecosystem)}/all.zip"


def fetch(
    url: str, destination: Path, timeout: float, progress: Callable[[int, int | None], None] | None
) -> None:
    """Stream ``url`` into ``destination``; a short read or network error raises DownloadError."""
    request = urllib.request.Request(url, headers={"User-Agent": "imagevet"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, destination.open("wb") as out:
            length_header = response.headers.get("Content-Length")
            expected = int(length_header) if length_header and length_header.isdigit() else None
            received = 0
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                received += len(chunk)
                if received > MAX_ARCHIVE_BYTES:
                    raise DownloadError(f"{url}: larger than {MAX_ARCHIVE_BYTES} bytes")
                out.write(chunk)
                if progress is not None:
                    progress(received, expected)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DownloadError(f"{url}: {getattr(exc, 'reason', exc)}") from exc
    if expected is not None and received != expected:
        raise DownloadError(f"{url}: connection closed after {received} of {expected} bytes")


def verify_archive(path: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DownloadError(f"{url}: not a valid zip archive ({exc})") from exc
    if bad is not None:
        raise DownloadError(f"{url}: archive member {bad} fails its CRC check")


def update(
    database: Path,
    ecosystems: tuple[str, ...],
    base_url: str,
    imported: str,
    timeout: float = 60.0,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportStats:
    """Download and verify every archive first; only then build the new database and swap it in."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".imagevet-osv-", dir=database.parent) as work:
        archives = []
        for ecosystem in ecosystems:
            url = archive_url(base_url, ecosystem)
            target = Path(work) / f"{ecosystem.replace(' ', '_')}.zip"

            def step(received: int, expected: int | None, name: str = ecosystem) -> None:
                if progress is not None:
                    progress(name, received, expected)

            fetch(url, target, timeout, step)
            verify_archive(target, url)
            archives.append(target)
        stats = ImportStats()
        inputs = iter_inputs(archives, stats)
        return import_into(
            database, inputs, base_url, imported, replace_families=True, whole_archive=True, stats=stats
        )
