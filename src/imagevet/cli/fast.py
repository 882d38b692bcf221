"""A run's command line parsed without Typer, from the table cli/spec.py writes (commands.json).

Importing Typer costs more than an audit's own work, so an ordinary run (a command with its options and
arguments, no help, no completion, no settings file) is parsed here, with Click's rules as Typer's tree
would apply them: options before or after arguments, ``--opt=V``, ``-fV``, grouped short flags, the last
of a repeated option, then the option's variable, ``IMAGEVET_<OPTION>`` (cli/settings.py), the function's
default; each value checked as its Click type checks it and converted as Typer converts it (a Path, an
Enum, a list), callbacks in Click's order. Anything else (an unknown option, a bad value, a missing
argument, a stale table, a parameter of a kind not in the table) is not an error here: the run is handed
to Typer, which parses it again and says what is wrong in the usual words. So this parser only ever
decides "this is a valid command line, and these are its arguments", and tests/cli/test_fast.py checks
that Typer hands every command the same arguments.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from imagevet.cli import settings
from imagevet.cli.common import say_pending, set_quiet
from imagevet.cli.spec import FORMAT, SPEC_FILE, sources_digest

__all__ = ["Prepared", "prepare"]


class Slow(Exception):
    """This command line is Typer's to parse."""


class Param:
    """A parameter of the table, with the attributes of a Click parameter that cli/settings.py reads."""

    __slots__ = ("entry", "envvar", "is_flag", "multiple", "name", "opts", "param_type_name")

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.name: str = entry["name"]
        self.param_type_name: str = entry["kind"]
        self.opts: list[str] = entry["opts"]
        self.is_flag: bool = entry.get("flag", False)
        self.multiple: bool = entry.get("multiple", False)
        self.envvar: str | None = entry.get("envvar")


class Node:
    """A command of the table; ``params`` as cli/settings.py walks a Click command's."""

    __slots__ = ("entry", "params")

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.params = [Param(p) for p in entry["params"]]


def load_spec() -> dict[str, Any] | None:
    """The table, or None when it is missing, damaged or older than the cli package's sources."""
    try:
        spec = json.loads(SPEC_FILE.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT or spec.get("sources") is None:
        return None
    return spec if spec["sources"] == sources_digest() else None


def _resolve(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _defaults_of(function: Callable[..., Any]) -> dict[str, Any]:
    """The function's own parameter defaults (Typer's defaults for Annotated parameters), read from the
    function itself so that a default defined in another module is never stale."""
    code = function.__code__
    positional = code.co_varnames[: code.co_argcount]
    values = function.__defaults__ or ()
    found = dict(zip(positional[len(positional) - len(values) :], values, strict=True))
    found.update(function.__kwdefaults__ or {})
    return found


class _Level:
    """One command of the path: its parsed options and arguments, in Click's terms."""

    def __init__(self, name: str, node: Node) -> None:
        self.name, self.node = name, node
        self.given: dict[str, Any] = {}
        self.order: list[str] = []
        self.function: Callable[..., Any] | None = None
        self.values: dict[str, Any] = {}


def _parse(level: _Level, words: list[str], interspersed: bool) -> list[str]:
    """Click's OptionParser over ``words``: the options found go to ``level.given``; the rest is returned
    (a group stops at its first positional word, which names its subcommand)."""
    long: dict[str, tuple[dict[str, Any], bool]] = {}
    short: dict[str, tuple[dict[str, Any], bool]] = {}
    for entry in level.node.entry["params"]:
        for names, positive in ((entry["opts"], True), (entry.get("secondary", []), False)):
            for name in names:
                kind = short if len(name) == 2 and name[0] == "-" and name[1] != "-" else long
                kind[name] = (entry, positive)
    rest, largs = list(words), []

    def value_of(entry: dict[str, Any], positive: bool) -> Any:
        if entry.get("slow"):
            raise Slow
        if entry["flag"]:
            return positive
        if not rest:
            raise Slow  # "requires an argument"
        return rest.pop(0)

    def store(entry: dict[str, Any], value: Any) -> None:
        name = entry["name"]
        if entry["multiple"]:
            level.given.setdefault(name, []).append(value)
        else:
            level.given[name] = value
        level.order.append(name)

    while rest:
        word = rest.pop(0)
        if word == "--":
            raise Slow
        if word[:1] != "-" or len(word) == 1:
            if not interspersed:
                rest.insert(0, word)
                break
            largs.append(word)
            continue
        name, equals, explicit = word.partition("=")
        if name in long:
            entry, positive = long[name]
            if equals:
                if entry.get("flag") or entry.get("slow"):
                    raise Slow  # "does not take a value"
                rest.insert(0, explicit)
            store(entry, value_of(entry, positive))
            continue
        if word[:2] == "--":
            raise Slow  # no such option
        for index, char in enumerate(word[1:], start=2):
            if f"-{char}" not in short:
                raise Slow
            entry, positive = short[f"-{char}"]
            takes_value = not entry.get("flag", True) or entry.get("slow")
            if takes_value and index < len(word):
                rest.insert(0, word[index:])
            store(entry, value_of(entry, positive))
            if takes_value:
                break
    return largs + rest


def _cast(entry: dict[str, Any], value: Any) -> Any:
    """The value as the option's Click type gives it; Slow where Click would refuse it."""
    if value is None:
        return () if entry["multiple"] else None
    if entry["multiple"]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise Slow
        return tuple(_cast_one(entry["type"], v) for v in value)
    return _cast_one(entry["type"], value)


def _cast_one(kind: list[Any], value: Any) -> Any:
    name = kind[0]
    if isinstance(value, bytes):
        raise Slow
    if name == "str":
        return str(value)
    if name == "flag":
        if not isinstance(value, bool):
            raise Slow
        return value
    if name == "choice":
        text = str(getattr(value, "value", value))
        if text not in kind[1]:
            raise Slow
        return text
    if name == "path":
        try:
            os.stat(value)
        except OSError:
            return value
        except ValueError as error:  # a NUL byte: Typer's to refuse
            raise Slow from error
        if not os.access(value, os.R_OK):
            raise Slow
        return value
    if name in ("int", "float"):
        try:
            number = int(value) if name == "int" else float(value)
        except (TypeError, ValueError, UnicodeError, OverflowError) as error:
            raise Slow from error
        low, high, low_open, high_open = kind[1:5]
        if isinstance(number, float) and not math.isfinite(number):
            raise Slow
        if low is not None and (number <= low if low_open else number < low):
            raise Slow
        if high is not None and (number >= high if high_open else number > high):
            raise Slow
        return number
    raise Slow


def _convert(how: list[Any] | None, value: Any) -> Any:
    """Typer's conversion of the value Click parsed (typer/main.py determine_type_convertor)."""
    if how is None or value is None:
        return value
    if how[0] == "path":
        return value if isinstance(value, Path) else Path(value)
    if how[0] == "enum":
        members = {str(member.value): member for member in _resolve(how[1])}
        if str(getattr(value, "value", value)) not in members:
            raise Slow
        return members[str(getattr(value, "value", value))]
    if how[0] == "list":
        return None if len(value) == 0 else [_convert(how[1], v) for v in value]
    raise Slow


def _settle(
    level: _Level, positional: list[str], defaults: Mapping[str, Any], environ: Mapping[str, str]
) -> None:
    """Every parameter's value (command line, variable, IMAGEVET_<OPTION>, default), cast and checked."""
    arguments = [e for e in level.node.entry["params"] if e["kind"] == "argument"]
    if len(positional) > len(arguments):
        raise Slow  # "unexpected extra argument"
    for entry, word in zip(arguments, positional, strict=False):
        level.given[entry["name"]] = word
        level.order.append(entry["name"])
    own = _defaults_of(level.function) if level.function is not None else {}
    for entry in level.node.entry["params"]:
        name = entry["name"]
        if entry.get("slow"):
            continue
        if name in level.given:
            raw = level.given[name]
        elif entry["envvar"] and environ.get(entry["envvar"]):
            raw = environ[entry["envvar"]]
        elif name in defaults:
            raw = defaults[name]
        elif not entry["own"]:
            raw = entry["default"]
        elif name in own:
            raw = own[name]
        else:
            raw = None
        value = _cast(entry, raw)
        if entry["required"] and (value is None or value == ()):
            raise Slow  # "missing option"
        level.values[name] = _convert(entry["convert"], value)


class Prepared:
    """A command line parsed and checked; ``run()`` does what Click would do next."""

    def __init__(self, levels: list[_Level], defaults: settings.Defaults) -> None:
        self.levels, self.defaults = levels, defaults

    def run(self) -> Any:
        result: Any = None
        for depth, level in enumerate(self.levels):
            entries = level.node.entry["params"]
            order = {name: index for index, name in reversed(list(enumerate(level.order)))}
            processing = sorted(
                (e for e in entries if not e.get("slow")),
                key=lambda e: (not e["eager"], order.get(e["name"], math.inf)),
            )
            for entry in processing:
                if entry["callback"] is not None:
                    name = entry["name"]
                    done = _resolve(entry["callback"])(level.values[name])
                    level.values[name] = _convert(entry["convert"], done)
            if level.function is None:
                continue
            own = _defaults_of(level.function)
            arguments = {e["name"]: level.values[e["name"]] for e in entries if e.get("expose") and e["own"]}
            hidden = {e["name"]: own.get(e["name"]) for e in entries if not e.get("expose") and e.get("own")}
            if depth == len(self.levels) - 1:
                say_pending()
            result = level.function(**hidden, **arguments)
        return result


def prepare(argv: Sequence[str], environ: Mapping[str, str]) -> Prepared | None:
    """The run ``argv`` asks for, ready to run; None when Typer must parse it."""
    spec = load_spec()
    if spec is None:
        return None
    try:
        prepared = _prepare(spec, list(argv), environ)
    except (Slow, settings.SettingsError):
        return None
    words = settings.before_double_dash(argv)
    if "-q" in words or "--quiet" in words or prepared.defaults.default_map.get("quiet") is True:
        set_quiet(True)  # as cli/__init__.py _defaults does for a run Typer parses
    return prepared


def _prepare(spec: dict[str, Any], words: list[str], environ: Mapping[str, str]) -> Prepared:
    levels = [_Level("", Node(spec["root"]))]
    while True:
        level = levels[-1]
        entry = level.node.entry
        if not entry["fast"]:
            raise Slow
        group = bool(entry["commands"])
        if entry.get("no_args_is_help") and not words:
            raise Slow
        words = _parse(level, words, interspersed=not group)
        if not group:
            break
        if not words:
            if "version" in level.given and len(levels) == 1:
                break  # `imagevet --version`: its callback prints and exits
            raise Slow
        child = entry["commands"].get(words[0])
        if child is None:
            raise Slow
        levels.append(_Level(words[0], Node(child)))
        words = words[1:]
    defaults = settings.defaults_for([(lv.name, lv.node) for lv in levels], None, environ)
    maps: list[Mapping[str, Any]] = []
    level_map: Mapping[str, Any] = defaults.default_map
    for depth, level in enumerate(levels):
        if depth > 0:
            level_map = level_map.get(level.name, {})
        maps.append(level_map)
    for depth, level in enumerate(levels):
        if level.node.entry["callback"] is not None:
            level.function = _resolve(level.node.entry["callback"])
        positional = words if depth == len(levels) - 1 and not level.node.entry["commands"] else []
        _settle(level, positional, maps[depth], environ)
    return Prepared(levels, defaults)
