"""Knowledge files (the catalog, check metadata, CIS numbers, profiles, frameworks) parsed once per text.

Every run used to rebuild them with PyYAML's constructor, about 50 ms of a 0.2 s audit. The parsed form is
kept in the user's cache directory under the digest (BLAKE2b, digest.py) of the parser's name and the text
itself, so a changed file (an edited catalog, a new release of imagevet) can never be served an old parse; a
run then pays one unpickle (about 3 ms for the whole catalog). These entries hold what PyYAML returned,
nothing imagevet judged: a file parsed this way is validated at every run.

The knowledge a run always needs whole (the check metadata, the catalog but its image files) is also kept as
the validated objects (``validated``), under a digest that adds imagevet's own code: the path, size and
modification time of every ``.py`` file of the package (the stamp Python's own bytecode cache trusts), so an
edited validator, model or release of imagevet is never served objects an older one judged. A run then pays
one unpickle (3-5 ms for the 146 check records against 10 ms parsing and validating them; 3-4 ms for the
catalog's core against 10).

The cache is the user's own folder, trusted like the block cache (docs/targets.md): an entry that cannot be
read back is parsed again and rewritten; parsed entries are unpickled with a loader that builds only plain
data (dicts, lists, strings, numbers, dates), validated ones with one that adds only imagevet's own
dataclasses and enums, so a planted file cannot run code. A cache that cannot be written (a read-only home)
only costs the speed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from imagevet.cachedir import CACHE_ENV, cache_dir, private
from imagevet.digest import cache_digest

__all__ = ["CACHE_ENV", "cache_dir", "parsed", "safe_yaml", "validated"]

T = TypeVar("T")

FORMAT = "1"  # bump when what is stored changes shape
MAX_ENTRY = 32 * 1024 * 1024  # far above the catalog's 140 KB; a bigger file is not ours
_ALLOWED = {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
}


class _PlainData(pickle.Unpickler):
    """Builds containers, scalars and dates only: any other class in an entry is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return getattr(dt, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


class _KnowledgeObjects(_PlainData):
    """Plain data, and the dataclasses and enums of imagevet's modules already imported (what validated
    knowledge is made of: the code that reads it has imported them), and compiled expressions (pickled as
    ``re._compile(pattern, flags)``): no other function, no class of another package, and no module
    imported for an entry (``imagevet.__main__`` would run the command line)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("re", "_compile"):
            import re

            return re._compile  # type: ignore[attr-defined]
        if module.startswith("imagevet.") and "." not in name:
            import dataclasses
            import enum
            import sys

            found = getattr(sys.modules.get(module), name, None)
            if isinstance(found, type) and (dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)):
                return found
            raise pickle.UnpicklingError(f"{module}.{name} is not imagevet's knowledge")
        return super().find_class(module, name)


def entry_name(parser: str, text: str) -> str:
    """The entry's file name: the digest of everything the parse depends on, PyYAML's release included
    (another release may read the same text otherwise)."""
    from imagevet import __version__

    digest = cache_digest(f"{FORMAT}\0{__version__}\0{parser}\0".encode())
    digest.update(yaml_release() + b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest() + ".pickle"


@functools.cache
def yaml_release() -> bytes:
    """The text of the installed PyYAML's ``yaml/__init__.py`` (which holds its ``__version__``), found
    without importing it: importing PyYAML is the cost the cache saves. Empty where it is not found."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("yaml")
        origin = spec.origin if spec is not None else None
        if origin is None:
            return b""
        with open(origin, "rb") as source:
            return source.read(1024 * 1024)
    except (ImportError, ValueError, OSError):
        return b""


@functools.cache
def code_stamp() -> str | None:
    """The path, size and modification time (ns) of every ``.py`` file of the imagevet package, in path
    order; None where the package is no folder of files (a zip), and validated knowledge is then built at
    every run."""
    import imagevet

    lines: list[str] = []

    def walk(folder: str) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        walk(entry.path)
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    lines.append(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}")

    try:
        walk(os.path.dirname(imagevet.__file__))
    except OSError:
        return None
    return "\n".join(lines)  # a path undecodable as UTF-8 stays text (entry_name hashes it as such)


def _read(path: Path, unpickler: type[pickle.Unpickler] = _PlainData) -> tuple[bool, Any]:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_ENTRY + 1)
    except OSError:
        return False, None
    if len(data) > MAX_ENTRY:
        return False, None
    try:
        return True, unpickler(io.BytesIO(data)).load()
    except Exception:  # any damage at all: parse again
        return False, None


def _write(directory: Path, path: Path, value: Any) -> None:
    try:
        import tempfile  # only when an entry is written

        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, pickle.PicklingError):
        pass  # no cache: the next run parses again


def parsed(parser: str, text: str, parse: Callable[[str], Any]) -> Any:
    """``parse(text)``, from the cache when this parser already read this exact text. ``parser`` names
    the parse (``yaml-safe``, ``yaml-unique-keys``); a parse that fails is never cached."""
    directory = cache_dir()
    if directory is None:
        return parse(text)
    if not private(directory):
        return parse(text)
    path = directory / entry_name(parser, text)
    found, value = _read(path)
    if found:
        return value
    value = parse(text)
    _write(directory, path, value)
    return value


def validated(name: str, texts: list[str], build: Callable[[], T]) -> T:
    """``build()``, the validated objects of knowledge made from ``texts`` (``name`` says which), from the
    cache when this code (code_stamp) already built them from these exact texts. A build that fails is
    never cached: it fails again, with its own message, at every run."""
    directory = cache_dir()
    stamp = code_stamp()
    if directory is None or stamp is None or not private(directory):
        return build()
    path = directory / entry_name(f"validated {name}", "\0".join(texts) + "\0" + stamp)
    found, value = _read(path, _KnowledgeObjects)
    if found:
        return value  # type: ignore[no-any-return]
    value = build()
    _write(directory, path, value)
    return value


def _safe_load(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def safe_yaml(text: str) -> Any:
    """YAML's safe subset (PyYAML's C loader where built), parsed once per text."""
    return parsed("yaml-safe", text, _safe_load)
