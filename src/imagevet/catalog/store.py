"""Where the catalog comes from on this machine: the bundled files plus an optional user override."""

from __future__ import annotations

from pathlib import Path

from imagevet.catalog import image_overrides
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


def image_override_path(data_dir: Path) -> Path:
    return data_dir / image_overrides.IMAGE_OVERRIDE_FILE


def _read(path: Path, limit: int) -> str:
    """A user file's text, refused (one line naming it) when unreadable, too large or not UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise DataError(f"{path}: larger than {limit // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_image_overrides(data_dir: Path | None) -> image_overrides.ImageOverrides | None:
    """The image override file of ``data_dir`` (written by `catalog update --from-cloud`), or None."""
    if data_dir is None:
        return None
    path = image_override_path(data_dir)
    if not path.is_file():
        return None
    return image_overrides.parse(str(path), _read(path, image_overrides.LIMITS.max_chars))


def load_catalog(data_dir: Path | None) -> Catalog:
    """The bundled catalog, with lifecycle dates from the override file in ``data_dir`` and the latest
    image facts from the image override file there, when present."""
    if data_dir is None:
        return bundled_catalog()
    path = override_path(data_dir)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from exc
        catalog = parse_catalog(bundled_texts(), (str(path), text))
    else:
        catalog = bundled_catalog()
    images = load_image_overrides(data_dir)
    return catalog if images is None else image_overrides.apply(catalog, images)
