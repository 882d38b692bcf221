"""The data files that ship inside the package (check metadata, profiles, the catalog), found beside the
modules that own them.

``importlib.resources`` would also read them from a zipped package, at the price of importing itself,
``tempfile`` and ``zipfile`` on every run (about a tenth of an audit's start-up, issue 19). imagevet is
installed as files (pip unpacks wheels; a zipapp is not a supported form), so the folder of the owning
package's ``__init__`` is where they are.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["folder", "text"]


def folder(package: str) -> Path:
    """The folder of ``package`` (imported if it was not)."""
    origin = importlib.import_module(package).__file__
    if origin is None:
        raise RuntimeError(f"{package} has no folder (a namespace package?)")
    return Path(origin).parent


def text(package: str, name: str) -> str:
    """The UTF-8 text of the data file ``name`` of ``package``."""
    return (folder(package) / name).read_text(encoding="utf-8")
