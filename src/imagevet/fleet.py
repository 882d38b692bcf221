"""Fleets: read an inventory, audit every host concurrently, and never let one host stop the others.

Three inventory formats, told apart by name and content:

- a plain list, one target per line: ``[user@]host[:port]`` (IPv6 in brackets: ``root@[fe80::1]:2222``),
  ``ssh://[user@]host[:port]``, or a local TARGET (``/srv/rootfs``, ``./rootfs``, ``tar:…``, ``disk:…``);
- an Ansible INI inventory: ``[group]`` host lines with ``key=value`` variables, ``[group:vars]``,
  ``[group:children]``;
- an Ansible YAML inventory (``.yml``/``.yaml``, or content that starts like one): groups with
  ``hosts``, ``vars`` and ``children``.

Of Ansible's variables imagevet reads ``ansible_host``, ``ansible_port`` and ``ansible_user`` (and
their old ``ansible_ssh_*`` spellings); nearer groups override farther ones and host variables override
all. The inventory is refused as a whole, with one line naming the file and the line, when any entry is
not a usable target: a bad port, a host name with spaces, a wrong YAML type (``hosts`` as a list,
``vars`` as a string), nesting past a fixed depth, an alias bomb. A refusal never quotes the file.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import yaml

from imagevet.catalog.safe_yaml import Document, Limits, load
from imagevet.errors import ImagevetError
from imagevet.model import Report

MAX_HOSTS = 50_000
MAX_GROUP_DEPTH = 30
MAX_CHARS = 2 * 1024 * 1024
YAML_LIMITS = Limits(max_chars=MAX_CHARS, max_depth=64, max_aliases=10_000, max_entries=300_000)
# Targets taken as written (local paths and images, AMIs); other "…://" targets: the target layer judges.
LOCAL_PREFIXES = ("/", "./", "../", "docker-archive:", "oci:", "tar:", "disk:", "ami:")
SSH_VARIABLES = {
    "ansible_host": "ansible_host",
    "ansible_ssh_host": "ansible_host",
    "ansible_port": "ansible_port",
    "ansible_ssh_port": "ansible_port",
    "ansible_user": "ansible_user",
    "ansible_ssh_user": "ansible_user",
}
_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})", re.ASCII)
_IPV6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", re.ASCII)
_GROUP = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_SECTION = re.compile(r"\[([A-Za-z0-9_.-]+)(?::(vars|children))?\]", re.ASCII)
_RANGE = re.compile(r"\[[0-9a-z]+:[0-9a-z]+(?::[0-9]+)?\]", re.ASCII)
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


class InventoryError(ImagevetError):
    """The inventory file cannot be understood."""


@dataclass(frozen=True)
class Host:
    name: str
    spec: str  # a target spec: ssh://…, or a directory / image for local targets


@dataclass
class HostResult:
    host: Host
    report: Report | None = None
    error: str | None = None


class Problem(Exception):
    """Why a value is not usable; the parser adds the file and the line."""


@dataclass(frozen=True)
class Address:
    user: str | None
    host: str
    port: int | None

    def spec(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ssh://{f'{self.user}@' if self.user else ''}{host}{f':{self.port}' if self.port else ''}"


def _port(value: object) -> int:
    number = -1
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value.lstrip("0")) <= 5:
        number = int(value)
    if not 0 < number < 65536:
        raise Problem("the port must be a number from 1 to 65535")
    return number


def _host(value: object) -> str:
    """A host name, an IPv4 address or an IPv6 address (brackets optional)."""
    if not isinstance(value, str):
        raise Problem("the host must be a name or an address")
    host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if _NAME.fullmatch(host) or (":" in host and _IPV6.fullmatch(host)):
        return host
    raise Problem("not a host name or address")


def _user(value: object) -> str:
    if not (isinstance(value, str) and _USER.fullmatch(value)):
        raise Problem("the user must be a login name (letters, digits, '.', '_', '-')")
    return value


def address(text: str, allow_user: bool = True) -> Address:
    """``[user@]host[:port]``: IPv6 in brackets when a port follows, bare otherwise."""
    user, at, rest = text.rpartition("@")
    if at and not allow_user:
        raise Problem("put the login name in ansible_user, not before the host")
    port: int | None = None
    if rest.startswith("["):
        host, bracket, tail = rest[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise Problem("an IPv6 address in brackets must be [address] or [address]:port")
        if tail:
            port = _port(tail[1:])
        if ":" not in host:
            raise Problem("only an IPv6 address goes in brackets")
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
        port = _port(port_text)
    else:
        host = rest
    return Address(_user(user) if at else None, _host(host), port)


def shown_name(text: str) -> str:
    """A host's name in tables, messages and --output-dir file names: a URL without its query or
    userinfo (a signed URL's signature is a credential)."""
    url = text.removeprefix("disk:")
    if not url.startswith(("http://", "https://")):
        return text
    import urllib.parse

    from imagevet.target.http import choosing_query
    from imagevet.target.http_fetch import redact_url, without_query

    query = urllib.parse.urlsplit(url).query
    kept = choosing_query(query)  # what may pick the file (?file=a), so two hosts keep two names
    shown = without_query(url) + (f"?{kept}" if kept else "")
    if redact_url(url).endswith("?…") and len(kept) < len(query):
        shown += "&…" if kept else "?…"
    return text[: len(text) - len(url)] + shown


def _target(text: str) -> str:
    """A plain-list line as a target spec."""
    if text.startswith(LOCAL_PREFIXES):
        return text
    if text.startswith("ssh://"):
        return address(text.removeprefix("ssh://").removesuffix("/")).spec()
    if "://" in text:
        return text  # another kind of target: the target layer judges it, host by host
    return address(text).spec()


def _checked_name(text: str) -> str:
    if not text or _UNPRINTABLE.search(text) or len(text) > 4096:
        raise Problem("not a target (one per line, without spaces or control characters)")
    if _RANGE.search(text):
        raise Problem("host ranges such as web[01:50] are not supported: list the hosts")
    return text


def _host_entry(name: str, group_vars: dict[str, object], host_vars: dict[str, object]) -> Host:
    """An INI or YAML host with its checked variables. As in Ansible, ``host:port`` in the name sets the
    host's ``ansible_port``: it beats group variables, and an explicit host variable beats it."""
    if name.startswith(LOCAL_PREFIXES) or "://" in name:
        return Host(shown_name(name), _target(name))
    named = address(name, allow_user=False)
    variables = {**group_vars, **({"ansible_port": named.port} if named.port else {}), **host_vars}
    user, port, host = (variables.get(k) for k in ("ansible_user", "ansible_port", "ansible_host"))
    return Host(
        name,
        Address(
            user if isinstance(user, str) else None,
            host if isinstance(host, str) else named.host,
            port if isinstance(port, int) else None,
        ).spec(),
    )


def _ssh_variable(key: str, value: object) -> tuple[str, object] | None:
    """(canonical name, checked value) for the variables imagevet uses; None for the others."""
    canonical = SSH_VARIABLES.get(key)
    if canonical is None:
        return None
    if canonical == "ansible_port":
        return canonical, _port(value)
    if canonical == "ansible_user":
        return canonical, _user(value)
    return canonical, _host(value)


# ----------------------------------------------------------------------------- plain list


def _hosts_from_list(lines: list[tuple[int, str]], fail: Callable[[int, str], InventoryError]) -> list[Host]:
    hosts = []
    for number, line in lines:
        try:
            hosts.append(Host(shown_name(line), _target(_checked_name(line))))
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
                checked = _ssh_variable(key.strip(), _unquote(value.strip()))
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
            name = _checked_name(words[0])
            variables = ini.hosts.setdefault(name, {})
            for word in words[1:]:
                key, equals, value = word.partition("=")
                if not equals or not _KEY.fullmatch(key):
                    raise Problem("after the host, each word must be key=value")
                checked = _ssh_variable(key, value)
                if checked is not None:
                    variables[checked[0]] = checked[1]
            _host_entry(name, {}, variables)  # validates the name (and host:port) on its own line
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
        hosts.append(_host_entry(name, merged, own))
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
                    checked = _ssh_variable(key, doc.value(value_node, key))
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
                    host = _host_entry(_checked_name(name), merged, variables(host_node, "host variables"))
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
    return not (":" in inner and _IPV6.fullmatch(inner))


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


def audit_fleet(
    hosts: list[Host],
    audit_one: Callable[[Host], Report],
    concurrency: int,
    progress: Callable[[HostResult], None] | None = None,
) -> list[HostResult]:
    """Audit every host with at most ``concurrency`` at once; a failing host is recorded, never raised."""
    lock = threading.Lock()

    def work(host: Host) -> HostResult:
        try:
            result = HostResult(host, report=audit_one(host))
        except ImagevetError as exc:
            result = HostResult(host, error=str(exc))
        except Exception as exc:
            result = HostResult(host, error=f"{exc.__class__.__name__}: {exc}")
        if progress is not None:
            with lock:
                progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(work, hosts))
