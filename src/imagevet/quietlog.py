"""Libraries' log records stay off the terminal, without importing ``logging`` on every run.

The cloud SDKs, urllib3 and the service's servers log warnings; with no handler anywhere, Python prints
them to stderr (logging's "last resort"), burying imagevet's one-line messages. A NullHandler on the root
logger stops that, but importing ``logging`` (traceback, string, threading with it) is a sixth of what
the interpreter costs to start, and an audit of a local root never logs. So the handler is added when
``logging`` is first imported, by whoever imports it: a finder at the head of ``sys.meta_path`` that
lets the normal finders find the module and adds the handler once the module has run. Where ``logging``
is already imported, the handler is added at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any


def _quieten(logging: Any) -> None:
    logging.getLogger().addHandler(logging.NullHandler())


class _WhenLoggingArrives:
    """Finds nothing itself: for ``logging`` it asks the path finder and wraps the loader's exec_module."""

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "logging":
            return None
        sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not cls]
        spec = PathFinder.find_spec(name, path)
        loader: Any = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec  # not a module from a path (then it is found as Python finds it; not quietened)
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _quieten(module)

        loader.exec_module = exec_module
        return spec


def quiet_library_logging() -> None:
    """Give the root logger a NullHandler now, or as soon as ``logging`` is imported."""
    if "logging" in sys.modules:
        _quieten(sys.modules["logging"])
    elif _WhenLoggingArrives not in sys.meta_path:
        sys.meta_path.insert(0, _WhenLoggingArrives)
