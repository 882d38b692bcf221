"""The compiled methods of imagevet's dataclasses, kept between runs.

CPython writes each dataclass's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and frozen
``__setattr__`` as source text and compiles it, at every start: an audit builds about 90 dataclasses,
and compiling their 500 methods was 87 ms of its 310 (issue 19). The text is the same from run to run,
so its compiled code is kept, as Python keeps a module's in ``__pycache__``: ``install()`` gives the
``dataclasses`` module an ``exec`` that looks the exact text up in a table loaded once (one
``marshal.loads``, about 4 ms) and compiles only what it has not seen. The code run is what
``compile(text)`` returns, the same object either way; only the compiling is skipped.

The table lives in the knowledge cache folder (cachedir.py), is used only when that folder and the file
are the user's own and no one else may write them (a planted table would be code that runs, trusted as
``__pycache__`` is), is named for the exact interpreter build (code objects are not portable), and is
rewritten at exit when a run compiled something new. A damaged, foreign or oversized table is ignored
and replaced: it costs the time it would have saved, never a result.
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from imagevet.cachedir import cache_dir, private

FILE = f"dataclass-code-{sys.implementation.cache_tag}-{sys.hexversion:x}.marshal"
MAX_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 8192  # imagevet has about 150 dataclasses; a table past this is started again


class _Table:
    """The code by source text, where it lives, and whether this run added to it."""

    codes: dict[str, CodeType] = {}  # noqa: RUF012 (one table per process)
    path: Path | None = None
    added = 0
    reused = 0


def _load(path: Path) -> dict[str, CodeType]:
    if not private(path) or not private(path.parent):
        return {}
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return {}
        table = marshal.loads(data)
    except Exception:  # missing, unreadable, damaged: compile again
        return {}
    if not isinstance(table, dict) or len(table) > MAX_ENTRIES:
        return {}
    if not all(isinstance(k, str) and isinstance(v, CodeType) for k, v in table.items()):
        return {}
    return table


def _exec(source: Any, globals: Any = None, locals: Any = None) -> None:
    """``exec`` as dataclasses calls it, with the compiled text reused for imagevet's own classes (the
    globals are the class's module's); anyone else's dataclasses are compiled as always."""
    owner = globals.get("__name__", "") if isinstance(globals, dict) else ""
    if not isinstance(source, str) or not (owner == "imagevet" or owner.startswith("imagevet.")):
        builtins.exec(source, globals, locals)
        return
    code = _Table.codes.get(source)
    if code is None:
        # As exec() compiles it for dataclasses.py, which has no __future__ imports (inheriting this
        # module's would make the methods' annotations strings).
        code = compile(source, "<string>", "exec", dont_inherit=True)
        _Table.codes[source] = code
        _Table.added += 1
    else:
        _Table.reused += 1
    builtins.exec(code, globals, locals)


def _save() -> None:
    path = _Table.path
    if path is None or not _Table.added or len(_Table.codes) > MAX_ENTRIES:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not private(path.parent):
            return
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(marshal.dumps(_Table.codes))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, ValueError):
        pass  # no table: the next run compiles again


def install() -> None:
    """Reuse compiled dataclass methods from now on (once per process; without a usable cache folder,
    nothing changes)."""
    if "exec" in vars(dataclasses):  # installed already, or someone else's hook: leave it
        return
    directory = cache_dir()
    if directory is None:
        return
    _Table.path = directory / FILE
    _Table.codes = _load(_Table.path)
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # a module global shadows the builtin
    atexit.register(_save)


def stats() -> dict[str, int]:
    """How many methods this process compiled and reused (tests, benchmarks)."""
    return {"compiled": _Table.added, "reused": _Table.reused, "known": len(_Table.codes)}
