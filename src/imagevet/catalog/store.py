"""Where the catalog comes from on this machine: the bundled files plus an optional user override."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from imagevet.catalog.loader import OVERRIDE_LIMITS, bundled_catalog, bundled_texts, parse_catalog
from imagevet.catalog.model import Catalog
from imagevet.errors import DataError
from imagevet.userfile import read_capped_text

# `catalog update` writes it (catalog/update.py, which needs urllib: not imported by every run that reads it).
OVERRIDE_FILE = "lifecycle-overrides.yaml"
# `catalog update --from-cloud` writes it (catalog/image_overrides.py, imported only when there is one).
IMAGE_OVERRIDE_FILE = "image-overrides.yaml"

if TYPE_CHECKING:
    from imagevet.catalog.image_overrides import ImageOverrides


def data_dir_from_env(env: dict[str, str], home: Path) -> Path:
    """$IMAGEVET_DATA_DIR, else $XDG_DATA_HOME/imagevet, else ~/.local/share/imagevet."""
    if env.get("IMAGEVET_DATA_DIR"):
        return Path(env["IMAGEVET_DATA_DIR"])
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return base / "imagevet"


def override_path(data_dir: Path) -> Path:
    return data_dir / OVERRIDE_FILE


def image_override_path(data_dir: Path) -> Path:
    return data_dir / IMAGE_OVERRIDE_FILE


def _read(path: Path, limit: int) -> str:
    """A user override file's text, refused (one line naming it) when unreadable, too large or not UTF-8."""
    return read_capped_text(path, str(path), limit, DataError)


def _present(path: Path) -> bool:
    """Whether an override file is there; one that is there but is not a regular file (a link to a
    device, a directory) is refused rather than silently ignored."""
    if not path.exists() and not path.is_symlink():
        return False
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    return True


def override_text(data_dir: Path) -> str | None:
    """The lifecycle override file's text (None without one), read capped like every user file."""
    path = override_path(data_dir)
    if not _present(path):
        return None
    # Bytes: the loader's limit counts characters, and a character takes at most four.
    return _read(path, OVERRIDE_LIMITS.max_chars * 4)


def load_image_overrides(data_dir: Path | None) -> ImageOverrides | None:
    """The image override file of ``data_dir`` (written by `catalog update --from-cloud`), or None."""
    from imagevet.catalog import image_overrides

    if data_dir is None:
        return None
    path = image_override_path(data_dir)
    if not _present(path):
        return None
    return image_overrides.parse(str(path), _read(path, image_overrides.LIMITS.max_chars))


def load_catalog(data_dir: Path | None) -> Catalog:
    """The bundled catalog, with lifecycle dates from the override file in ``data_dir`` and the latest
    image facts from the image override file there, when present."""
    if data_dir is None:
        return bundled_catalog()
    text = override_text(data_dir)
    if text is not None:
        catalog = parse_catalog(bundled_texts(), (str(override_path(data_dir)), text), lazy_images=True)
    else:
        catalog = bundled_catalog()
    if not _present(image_override_path(data_dir)):
        return catalog
    from imagevet.catalog import image_overrides

    images = load_image_overrides(data_dir)
    return catalog if images is None else image_overrides.apply(catalog, images)
