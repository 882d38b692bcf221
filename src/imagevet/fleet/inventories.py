"""The three inventory formats (a plain list, Ansible INI, Ansible YAML), told apart by name and content,
each read into hosts within fixed bounds; a refusal names the file and the line and never quotes it."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from imagevet.catalog.safe_yaml import Document, load
from imagevet.fleet.hosts import (
    IPV6,
    MAX_CHARS,
    MAX_GROUP_DEPTH,
    MAX_HOSTS,
    SSH_VARIABLES,
    YAML_LIMITS,
    Host,
    InventoryError,
    Problem,
    checked_name,
    host_entry,
    shown_name,
    ssh_variable,
    target_of,
)

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_SECTION = re.compile(r"\[([A-Za-z0-9_.-]+)(?::(vars|children))?\]", re.ASCII)
_GROUP = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)


def _hosts_from_list(lines: list[tuple[int, str]], fail: Callable[[int, str], InventoryError]) -> list[Host]:
    hosts = []
    for number, line in lines:
        try:
            hosts.append(Host(shown_name(line), target_of(checked_name(line))))
        except Problem as exc:
            raise fail(number, str(exc)) from exc
    return hosts


# ----------------------------------------------------------------------------- Ansible INI


@dataclass
class _Ini:
    hosts: dict[str, dict[str, object]]
    host_groups: dict[str, list[str]]
    group_vars: dict[str, dict[str, object]]
    parents: dict[str, list[str]]
    header_line: dict[str, int]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _read_ini(lines: list[tuple[int, str]], fail: Callable[[int, str], InventoryError]) -> _Ini:
    ini = _Ini({}, {}, {}, {}, {})
    section, kind = "ungrouped", ""
    for number, line in lines:
        try:
            if _is_section(line):
                header = _SECTION.fullmatch(line)
                if header is None:
                    raise Problem("not a section header: [group], [group:vars] or [group:children]")
                section, kind = header.group(1), header.group(2) or ""
                ini.header_line.setdefault(section, number)
                continue
            if kind == "vars":
                key, equals, value = line.partition("=")
                if not equals or not _KEY.fullmatch(key.strip()):
                    raise Problem("a [group:vars] line must be key=value")
                checked = ssh_variable(key.strip(), _unquote(value.strip()))
                if checked is not None:
                    ini.group_vars.setdefault(section, {})[checked[0]] = checked[1]
                continue
            if kind == "children":
                if not _GROUP.fullmatch(line):
                    raise Problem("a [group:children] line must be one group name")
                ini.parents.setdefault(line, []).append(section)
                continue
            try:
                words = shlex.split(line, comments=True)
            except ValueError as exc:
                raise Problem("unbalanced quotes") from exc
            if not words:
                continue
            name = checked_name(words[0])
            variables = ini.hosts.setdefault(name, {})
            for word in words[1:]:
                key, equals, value = word.partition("=")
                if not equals or not _KEY.fullmatch(key):
                    raise Problem("after the host, each word must be key=value")
                checked = ssh_variable(key, value)
                if checked is not None:
                    variables[checked[0]] = checked[1]
            host_entry(name, {}, variables)  # validates the name (and host:port) on its own line
            if len(ini.hosts) > MAX_HOSTS:
                raise Problem(f"more than {MAX_HOSTS} hosts")
            ini.host_groups.setdefault(name, []).append(section)
        except Problem as exc:
            raise fail(number, str(exc)) from exc
    return ini


def _ancestors(
    group: str, ini: _Ini, fail: Callable[[int, str], InventoryError], budget: list[int]
) -> list[str]:
    """The group, then its parents, their parents, ... nearest first, each once (so cycles end)."""
    order, level, seen = [group], [group], {group}
    for _ in range(MAX_GROUP_DEPTH):
        level = list(dict.fromkeys(p for g in level for p in ini.parents.get(g, []) if p not in seen))
        seen.update(level)
        budget[0] -= len(level) + 1
        if budget[0] < 0:
            raise fail(ini.header_line.get(group, 1), "too many group relations to resolve")
        if not level:
            return order
        order.extend(level)
    raise fail(ini.header_line.get(group, 1), f"groups nest deeper than {MAX_GROUP_DEPTH} levels")


def _hosts_from_ini(lines: list[tuple[int, str]], fail: Callable[[int, str], InventoryError]) -> list[Host]:
    ini = _read_ini(lines, fail)
    memo: dict[str, list[str]] = {}
    budget = [1_000_000]
    hosts = []
    for name, own in ini.hosts.items():
        ranked: list[tuple[int, str]] = []  # (distance from the host, group): nearer groups win
        for group in ini.host_groups[name]:
            if group not in memo:
                memo[group] = _ancestors(group, ini, fail, budget)
            ranked.extend(enumerate(memo[group]))
        merged: dict[str, object] = {}
        for _, group in [*sorted(ranked, key=lambda r: r[0]), (MAX_GROUP_DEPTH + 1, "all")]:
            for key, value in ini.group_vars.get(group, {}).items():
                merged.setdefault(key, value)
        hosts.append(host_entry(name, merged, own))
    return hosts


# ----------------------------------------------------------------------------- Ansible YAML


def _hosts_from_yaml(text: str, filename: str) -> list[Host]:
    doc = load(text, filename, InventoryError, YAML_LIMITS)
    found: dict[str, Host] = {}

    def variables(node: yaml.Node | None, what: str) -> dict[str, object]:
        if Document.is_null(node):
            return {}
        assert node is not None
        checked_vars: dict[str, object] = {}
        for key, _, value_node in doc.mapping(node, what):
            if key in SSH_VARIABLES:
                try:
                    checked = ssh_variable(key, doc.value(value_node, key))
                except Problem as exc:
                    raise doc.fail(value_node, f"{key}: {exc}") from exc
                assert checked is not None
                checked_vars[checked[0]] = checked[1]
        return checked_vars

    walked: set[tuple[int, tuple[tuple[str, object], ...]]] = set()
    path: set[int] = set()  # the groups being walked, from the top down to this one

    def walk(node: yaml.Node | None, inherited: dict[str, object], depth: int) -> None:
        if Document.is_null(node):
            return
        assert node is not None
        if id(node) in path:
            raise doc.fail(node, "a group contains itself (through an alias)")
        if depth > MAX_GROUP_DEPTH:
            raise doc.fail(node, f"groups nest deeper than {MAX_GROUP_DEPTH} levels")
        # A group reached again (an alias) with the same inherited variables adds nothing new: skip it,
        # so aliases cost once per node and not once per path (no exponential walk).
        signature = (id(node), tuple(sorted(inherited.items())))
        if signature in walked:
            return
        walked.add(signature)
        path.add(id(node))
        try:
            _walk_group(node, inherited, depth)
        finally:
            path.discard(id(node))

    def _walk_group(node: yaml.Node, inherited: dict[str, object], depth: int) -> None:
        parts: dict[str, yaml.Node] = {}
        for key, key_node, value_node in doc.mapping(node, "a group"):
            if key not in ("hosts", "vars", "children"):
                raise doc.fail(key_node, "a group has only hosts, vars and children")
            parts[key] = value_node
        merged = {**inherited, **variables(parts.get("vars"), "vars")}
        hosts_node = parts.get("hosts")
        if not Document.is_null(hosts_node):
            assert hosts_node is not None
            for name, name_node, host_node in doc.mapping(hosts_node, "hosts (host names as keys)"):
                if name in found:
                    continue  # the first definition of a host wins
                try:
                    host = host_entry(checked_name(name), merged, variables(host_node, "host variables"))
                except Problem as exc:
                    raise doc.fail(name_node, str(exc)) from exc
                found[name] = host
                if len(found) > MAX_HOSTS:
                    raise doc.fail(name_node, f"more than {MAX_HOSTS} hosts")
        children = parts.get("children")
        if not Document.is_null(children):
            assert children is not None
            for _, _, child in doc.mapping(children, "children (group names as keys)"):
                walk(child, merged, depth + 1)

    root = doc.root
    if root is None or not isinstance(root, yaml.MappingNode):
        raise doc.fail(root, "a YAML inventory must be a mapping of groups (Ansible format)")
    groups = doc.mapping(root, "the top level")
    everyone = next((variables(_vars_of(doc, n), "vars") for k, _, n in groups if k == "all"), {})
    for key, _, node in groups:
        walk(node, {} if key == "all" else everyone, 1)
    return list(found.values())


def _vars_of(doc: Document, group: yaml.Node) -> yaml.Node | None:
    if not isinstance(group, yaml.MappingNode):
        return None
    return next((v for k, _, v in doc.mapping(group, "a group") if k == "vars"), None)


# ----------------------------------------------------------------------------- entry point


def _is_section(line: str) -> bool:
    """``[...]`` on its own line is an INI section header, unless it is a bracketed IPv6 address."""
    if not (line.startswith("[") and line.endswith("]")):
        return False
    inner = line[1:-1]
    return not (":" in inner and IPV6.fullmatch(inner))


def _looks_like_yaml(lines: list[tuple[int, str]]) -> bool:
    first = lines[0][1] if lines else ""
    return first == "---" or bool(re.fullmatch(r"[A-Za-z0-9_.-]+:", first, re.ASCII))


def parse_inventory(text: str, filename: str) -> list[Host]:
    """A plain list (one target per line), an Ansible INI inventory, or an Ansible YAML inventory."""

    def fail(number: int, problem: str) -> InventoryError:
        return InventoryError(f"{filename}: line {number}: {problem}")

    if len(text) > MAX_CHARS:
        raise InventoryError(f"{filename}: larger than {MAX_CHARS // (1024 * 1024)} MiB")
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith(("#", ";"))
    ]
    if filename.endswith((".yml", ".yaml")) or _looks_like_yaml(lines):
        hosts = _hosts_from_yaml(text, filename)
    elif any(_is_section(line) or "=" in line for _, line in lines):
        hosts = _hosts_from_ini(lines, fail)
    else:
        hosts = _hosts_from_list(lines, fail)
    if not hosts:
        raise InventoryError(f"{filename}: names no host")
    if len(hosts) > MAX_HOSTS:
        raise InventoryError(f"{filename}: more than {MAX_HOSTS} hosts")
    return hosts
