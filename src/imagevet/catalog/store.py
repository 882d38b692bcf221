"""Where the catalog comes from on this machine: the bundled files plus an optional user override."""

from __future__ import annotations

from pathlib import Path

from imagevet.catalog.loader import bundled_catalog, bundled_texts, parse_catalog
from imagevet.catalog.model import Catalog
from imagevet.catalog.update import OVERRIDE_FILE
from imagevet.errors import DataError

BUNDLED_SNAPSHOT = "2026-08-22 (endoflife.date a70eca337600) and the project's shared fact sheet"


def data_dir_from_env(env: dict[str, str], home: Path) -> Path:
    """$IMAGEVET_DATA_DIR, else $XDG_DATA_HOME/imagevet, else ~/.local/share/imagevet."""
    if env.get("IMAGEVET_DATA_DIR"):
        return Path(env["IMAGEVET_DATA_DIR"])
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return base / "imagevet"


def override_path(data_dir: Path) -> Path:
    return data_dir / OVERRIDE_FILE


def load_catalog(data_dir: Path | None) -> Catalog:
    """The bundled catalog, with lifecycle dates from the override file in ``data_dir`` when present."""
    if data_dir is None:
        return bundled_catalog()
    path = override_path(data_dir)
    if not path.is_file():
        return bundled_catalog()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    return parse_catalog(bundled_texts(), (str(path), text))
