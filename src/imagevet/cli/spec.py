"""The command line as data: what cli/fast.py needs to parse a run without building Typer's tree.

``python -m imagevet.cli.spec`` writes ``commands.json`` beside this file from the tree Typer builds
(cli/__init__.py build_command), so Typer's declarations stay the single source. The file records, per
command, each parameter's option names, Click type, how Typer converts the value (a Path, an Enum, a list)
and the callbacks involved, together with a digest of the cli package's sources: a checkout whose sources
changed after the file was written (a developer who forgot to regenerate it) is parsed by Typer, never by
a stale table. A parameter of a kind the fast parser does not know marks its command as Typer-only.
tests/cli/test_fast.py checks that the file is current and that both parsers hand every command the
same arguments.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from imagevet.digest import cache_digest

SPEC_FILE = Path(__file__).with_name("commands.json")
FORMAT = 1


def sources_digest(folder: str = os.path.dirname(__file__)) -> str | None:
    """The digest (digest.cache_digest) of the cli package's Python sources (names and contents, in name
    order), or None where they cannot be read (an install without sources)."""
    digest = cache_digest(f"{FORMAT} {sys.version_info[:2]}".encode())
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        for name in names:
            with open(os.path.join(folder, name), "rb") as source:
                digest.update(name.encode() + b"\0" + source.read() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def _closure(function: Any) -> dict[str, Any]:
    code, cells = function.__code__, function.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(code.co_freevars, cells, strict=True)}


def _ref(function: Any) -> str:
    return f"{function.__module__}:{function.__qualname__}"


class Unsupported(Exception):
    """A parameter the fast parser does not handle: its command is parsed by Typer."""


def _click_type(param: Any) -> list[Any]:
    kind = param.type
    known = ("StringParamType", "IntRange", "FloatRange", "IntParamType", "FloatParamType", "Choice", "Path",
             "BoolParamType")  # fmt: skip
    names = [c.__name__.removeprefix("Typer") for c in type(kind).__mro__]
    name = next((n for n in names if n in known), names[0])
    if name == "StringParamType":
        return ["str"]
    if name in ("IntParamType", "FloatParamType", "IntRange", "FloatRange"):
        number = "int" if name.startswith("Int") else "float"
        if name.endswith("Range"):
            if getattr(kind, "clamp", False):
                raise Unsupported("clamped range")
            return [number, kind.min, kind.max, kind.min_open, kind.max_open]
        return [number, None, None, False, False]
    if name == "Choice":
        if not kind.case_sensitive:
            raise Unsupported("case-insensitive choice")
        return ["choice", [str(getattr(c, "value", c)) for c in kind.choices]]
    if name == "Path":
        plain = dict(exists=False, file_okay=True, dir_okay=True, writable=False, readable=True,
                     resolve_path=False, allow_dash=False)  # fmt: skip
        if any(getattr(kind, key) != value for key, value in plain.items()):
            raise Unsupported("Path with checks")
        if getattr(kind, "type", None) is not None:
            raise Unsupported("Path of another type")
        return ["path"]  # Click returns the text (once it is readable); Typer's convertor makes the Path
    if name == "BoolParamType" and param.is_flag:
        return ["flag"]
    raise Unsupported(f"type {name}")


def _convertor(convertor: Any) -> list[Any] | None:
    """How Typer's command wrapper converts the value Click parsed (typer/main.py determine_type_convertor
    and generate_list_convertor), as data."""
    import typer.main

    if convertor is None:
        return None
    if convertor is typer.main.param_path_convertor:
        return ["path"]
    cells = _closure(convertor)
    if "enum" in cells:
        return ["enum", _ref(cells["enum"])]
    if "default_value" in cells:
        if cells["default_value"] is not None:
            raise Unsupported("list with a default")
        return ["list", _convertor(cells["convertor"])]
    raise Unsupported("convertor")


def _param(param: Any, convertors: dict[str, Any], function_params: set[str]) -> dict[str, Any]:
    if param.nargs != 1 or getattr(param, "count", False) or getattr(param, "_flag_needs_value", False):
        raise Unsupported(f"{param.name}: nargs or count")
    if param.multiple and param.envvar:
        raise Unsupported(f"{param.name}: repeated option from a variable")
    if isinstance(param.envvar, list | tuple):
        raise Unsupported(f"{param.name}: several variables")
    entry: dict[str, Any] = {
        "name": param.name,
        "kind": param.param_type_name,
        "opts": list(param.opts),
        "secondary": list(getattr(param, "secondary_opts", [])),
        "flag": bool(getattr(param, "is_flag", False)),
        "multiple": bool(param.multiple),
        "required": bool(param.required),
        "envvar": param.envvar,
        "expose": bool(param.expose_value),
        "eager": bool(param.is_eager),
        "type": _click_type(param),
        "convert": _convertor(convertors.get(param.name)),
        "callback": None,
        "own": param.name in function_params,
    }
    if entry["flag"] and entry["type"] != ["flag"]:
        raise Unsupported(f"{param.name}: non-boolean flag")
    if not entry["own"]:  # a shared root option: its default is Click's (a literal in cli/common.py)
        if not isinstance(param.default, str | int | float | bool | type(None)):
            raise Unsupported(f"{param.name}: default")
        entry["default"] = param.default
    if param.callback is not None:
        cells = _closure(param.callback)
        original = cells.get("callback")
        if original is None or original.__code__.co_argcount != 1:
            raise Unsupported(f"{param.name}: callback")
        entry["callback"] = _ref(original)
    return entry


def _entry(param: Any, convertors: dict[str, Any], function_params: set[str]) -> dict[str, Any]:
    """A parameter's entry; one the fast parser cannot handle but the function never sees (Typer's
    --install-completion) is kept by name only, and a run that gives it is parsed by Typer."""
    try:
        return _param(param, convertors, function_params)
    except Unsupported:
        if param.expose_value or param.envvar:
            raise
        return {"name": param.name, "kind": param.param_type_name, "opts": list(param.opts),
                "secondary": list(getattr(param, "secondary_opts", [])), "slow": True}  # fmt: skip


def _node(command: Any) -> dict[str, Any]:
    import inspect

    node: dict[str, Any] = {"callback": None, "params": [], "commands": {}, "fast": True,
                            "no_args_is_help": bool(getattr(command, "no_args_is_help", False))}  # fmt: skip
    for name, child in (getattr(command, "commands", None) or {}).items():
        node["commands"][name] = _node(child)
    callback = command.callback
    try:
        if callback is not None:
            typer_wrapper = callback
            while "use_convertors" not in _closure(typer_wrapper):
                typer_wrapper = typer_wrapper.__wrapped__
            cells = _closure(typer_wrapper)
            if cells.get("context_param_name"):
                raise Unsupported("takes the Click context")
            original = inspect.unwrap(callback)
            node["callback"] = _ref(original)
            own = set(original.__code__.co_varnames[: original.__code__.co_argcount])
            own |= set(original.__code__.co_varnames[original.__code__.co_argcount :][
                : original.__code__.co_kwonlyargcount])  # fmt: skip
            node["params"] = [_entry(p, cells["use_convertors"], own) for p in command.params]
    except Unsupported as why:
        node.update(fast=False, why=str(why), params=[])
    return node


def build_spec() -> dict[str, Any]:
    """The spec of the whole command tree as it runs (Typer imported)."""
    from imagevet.cli import build_command

    return {"format": FORMAT, "sources": sources_digest(), "root": _node(build_command())}


def main() -> int:
    text = json.dumps(build_spec(), indent=1, sort_keys=True) + "\n"
    SPEC_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SPEC_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
