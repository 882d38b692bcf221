"""A module imported on its first use, for the few heavy ones most runs never touch.

PyYAML costs about as much to import as Python itself takes to start, and with the knowledge cache warm
(knowledge.py) an audit never parses YAML: the modules that parse user and data files (settings, waivers,
overrides, an image's cloud-init files) name ``yaml`` at module level through ``lazy.module("yaml")``,
which imports it when an attribute is first read. The import statement inside holds Python's import lock,
so threads (a fleet audit) are safe; after the first use each read is one attribute lookup more.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["module"]


class _OnFirstUse:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def module(name: str) -> Any:
    """``name``, imported when one of its attributes is first read."""
    return _OnFirstUse(name)
