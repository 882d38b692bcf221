"""Bounded YAML for files a user writes: waivers, fleet inventories, the catalog override file.

PyYAML alone is not safe enough for a gate's input. It builds nested nodes recursively (ten thousand
nested lists end in RecursionError), keeps the last of two duplicate keys without a word, lets a few
aliases describe a graph far larger than the file, raises a plain ValueError for ``2027-02-30``, and
its messages quote the offending text. This module refuses excessive size first; then nesting depth
and aliases, counted over the distinct composed nodes (libyaml itself refuses more than 1,000 levels;
without libyaml a flat pass over the parser's events refuses deep nesting before the recursive
pure-Python composer runs). The nodes' marks give every later problem its line: callers walk the tree
with :class:`Document`'s helpers, which check types, refuse duplicate keys, expand ``<<`` merges
within a budget and construct scalars without letting a Python exception escape.

Messages name the file and the line and never echo the file's bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imagevet import lazy
from imagevet.errors import ImagevetError

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy.module("yaml")  # imported on first use (imagevet/lazy.py)

MERGE_TAG = "tag:yaml.org,2002:merge"
NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|#x[0-9a-fA-F]+")


def _loader() -> Any:
    """PyYAML's C loader where libyaml is built, else its Python one."""
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Limits:
    """How much a file may ask of the parser before it is refused."""

    max_chars: int = 4 * 1024 * 1024
    max_depth: int = 32  # nested collections
    max_aliases: int = 1000
    max_entries: int = 1_000_000  # mapping entries and sequence items visited, aliases expanded


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1


def _problem(exc: yaml.YAMLError) -> str:
    """The parser's own description, without the file text it sometimes quotes."""
    problem = str(getattr(exc, "problem", None) or getattr(exc, "context", None) or "")
    problem = _QUOTED.sub("…", problem).strip()
    if not problem or not problem.isascii() or not problem.isprintable() or len(problem) > 100:
        return "not valid YAML"
    return f"not valid YAML ({problem})"


@dataclass
class Document:
    """A composed YAML document and the helpers that walk it with line-numbered errors."""

    source: str
    error: Callable[[str], ImagevetError]
    root: yaml.Node | None
    limits: Limits = field(default_factory=Limits)
    _entries: int = 0
    _merging: set[int] = field(default_factory=set)
    _constructor: Any = field(default_factory=lambda: yaml.constructor.SafeConstructor())

    def fail(self, node: yaml.Node | None, problem: str) -> ImagevetError:
        where = f"line {node.start_mark.line + 1}: " if node is not None else ""
        return self.error(f"{self.source}: {where}{problem}")

    def _spend(self, count: int, node: yaml.Node) -> None:
        self._entries += count
        if self._entries > self.limits.max_entries:
            raise self.fail(
                node, f"too large: more than {self.limits.max_entries} entries once aliases expand"
            )

    @staticmethod
    def is_null(node: yaml.Node | None) -> bool:
        return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key as written, key node, value node) for each entry; merges expanded, duplicates refused."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        explicit: dict[str, tuple[str, yaml.Node, yaml.Node]] = {}
        merged: dict[str, tuple[str, yaml.Node, yaml.Node]] = {}
        self._spend(len(node.value), node)
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in self._merge_sources(value_node, what):
                    if id(source) in self._merging or len(self._merging) >= self.limits.max_depth:
                        raise self.fail(key_node, f"{what}: '<<' merges a mapping into itself")
                    self._merging.add(id(source))
                    try:
                        for entry in self.mapping(source, what):
                            merged.setdefault(entry[0], entry)
                    finally:
                        self._merging.discard(id(source))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, f"{what}: a key must be a plain value, not a list or mapping")
            key = str(key_node.value)
            if key in explicit:
                first = explicit[key][1].start_mark.line + 1
                raise self.fail(key_node, f"{what}: duplicate key (first given on line {first})")
            explicit[key] = (key, key_node, value_node)
        return [*(e for k, e in merged.items() if k not in explicit), *explicit.values()]

    def _merge_sources(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.MappingNode) for n in node.value):
            return list(node.value)  # in a merge list the earlier mappings win (first kept below)
        raise self.fail(node, f"{what}: '<<' must merge a mapping or a list of mappings")

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        self._spend(len(node.value), node)
        return list(node.value)

    def value(self, node: yaml.Node, what: str) -> Any:
        """A scalar as YAML types it (str, int, bool, date, ...); collections are refused."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value, not a list or mapping")
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            if isinstance(exc, yaml.YAMLError):
                raise self.fail(node, f"{what} has an unsupported tag") from exc
            raise self.fail(node, f"{what} is not a value YAML can build") from exc

    def date(self, node: yaml.Node, what: str) -> dt.date:
        """A real calendar day written YYYY-MM-DD, plain or quoted.

        YAML would turn ``2027-02-30`` into a ValueError and ``2027-01-01 10:00`` into a datetime; a day
        with a time, a number (``20270101``), ISO week dates and other formats are refused too.
        """
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a date (YYYY-MM-DD), not a list or mapping")
        raw = str(node.value).strip()
        if node.tag not in (TIMESTAMP_TAG, STR_TAG):
            raise self.fail(node, f"{what} must be a date (YYYY-MM-DD)")
        if not _DATE.fullmatch(raw):
            if node.tag == TIMESTAMP_TAG:
                raise self.fail(node, f"{what} has a time of day; give the date only (YYYY-MM-DD)")
            raise self.fail(node, f"{what} is not a YYYY-MM-DD date")
        try:
            return dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise self.fail(node, f"{what} is not a real date (no such day in the calendar)") from exc

    def text(self, node: yaml.Node, what: str) -> str:
        """A scalar that must be text (quoted or plain), not a number, boolean, date or null."""
        value = self.value(node, what)
        if not isinstance(value, str):
            raise self.fail(node, f"{what} must be text, not {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, bytes):
        return "binary data"
    return "a date" if hasattr(value, "isoformat") else "another type"


def _event_line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _prepass(text: str, fail: Callable[[int | None, str], ImagevetError], limits: Limits) -> None:
    """Without libyaml: walk the parser's events (flat) and refuse deep nesting before the recursive
    pure-Python composer sees it. (libyaml refuses more than 1,000 levels itself.)"""
    depth = 0
    for event in yaml.parse(text, Loader=_loader()):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise fail(_event_line(event), f"nested deeper than {limits.max_depth} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_shape(root: yaml.Node, fail: Callable[[int | None, str], ImagevetError], limits: Limits) -> None:
    """Breadth-first over the distinct nodes: refuse nesting past the limit and too many aliases.

    An alias is a second reference to a node already composed (so cycles and alias bombs end here: each
    node is visited once, whatever the number of paths to it).
    """
    seen = {id(root)}
    level: list[yaml.Node] = [root]
    depth = aliases = 0
    while level:
        depth += 1
        below: list[yaml.Node] = []
        for node in level:
            children: list[yaml.Node]
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                continue
            if children and depth > limits.max_depth:
                raise fail(node.start_mark.line + 1, f"nested deeper than {limits.max_depth} levels")
            for child in children:
                if id(child) in seen:
                    aliases += 1
                    if aliases > limits.max_aliases:
                        raise fail(child.start_mark.line + 1, f"more than {limits.max_aliases} aliases")
                else:
                    seen.add(id(child))
                    below.append(child)
        level = below


def load(
    text: str, source: str, error: Callable[[str], ImagevetError], limits: Limits | None = None
) -> Document:
    """Parse one YAML document within ``limits``; every refusal is ``error("<source>: line N: ...")``."""
    limits = limits or Limits()

    def fail(line: int | None, problem: str) -> ImagevetError:
        return error(f"{source}: {f'line {line}: ' if line else ''}{problem}")

    if len(text) > limits.max_chars:
        raise fail(None, f"larger than {limits.max_chars // 1024} KiB")
    try:
        if _loader() is yaml.SafeLoader:
            _prepass(text, fail, limits)
        root = yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise fail(mark.line + 1 if mark is not None else None, _problem(exc)) from exc
    except yaml.reader.ReaderError as exc:
        raise fail(_line(text, exc.position), "contains a character YAML does not allow") from exc
    except yaml.YAMLError as exc:
        raise fail(None, _problem(exc)) from exc
    if root is not None:
        _check_shape(root, fail, limits)
    return Document(source, error, root, limits)
