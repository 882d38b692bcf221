"""The real dpkg as the oracle for the dpkg database reader: run ``dpkg-query`` on a private admindir.

``dpkg-query`` opens the database read-only (it never writes the admindir), applies the ``updates/``
journal like every dpkg command, and exits 2 where dpkg refuses the database.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FORMAT = "${db:Status-Status}\\t${Package}\\t${Architecture}\\t${Version}\\n"
NOT_PACKAGES = ("not-installed", "config-files")


def dpkg_available() -> bool:
    return shutil.which("dpkg-query") is not None


def admindir(root: Path, status: bytes, updates: dict[str, bytes] | None = None) -> Path:
    """A dpkg admindir under ``root`` holding ``status`` (and update journal files); returns it."""
    directory = root / "var/lib/dpkg"
    (directory / "updates").mkdir(parents=True, exist_ok=True)
    (directory / "info").mkdir(exist_ok=True)
    (directory / "status").write_bytes(status)
    for name, data in (updates or {}).items():
        (directory / "updates" / name).write_bytes(data)
    return directory


def dpkg_query(directory: Path) -> set[tuple[str, str, str]] | None:
    """(name, arch, version) of every package whose files are on disk; None when dpkg refuses."""
    proc = subprocess.run(
        ["dpkg-query", f"--admindir={directory}", "-W", "-f", FORMAT],
        capture_output=True,
        timeout=30,
    )
    if proc.returncode != 0:
        return None
    rows = (line.split(b"\t") for line in proc.stdout.splitlines())
    return {
        (name.decode(), arch.decode("utf-8", "replace"), version.decode("utf-8", "replace"))
        for status, name, arch, version in rows
        if status.decode() not in NOT_PACKAGES
    }
