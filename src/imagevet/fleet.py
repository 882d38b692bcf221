"""Fleets: read an inventory, audit every host concurrently, and never let one host stop the others."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import yaml

from imagevet.errors import ImagevetError
from imagevet.model import Report

_INI_SECTION = re.compile(r"^\[([^\]:]+)(?::(vars|children))?\]$")


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


def _spec(name: str, variables: dict[str, Any]) -> str:
    if "://" in name or name.startswith(("/", "docker-archive:", "oci:", "tar:")):
        return name
    host = str(variables.get("ansible_host") or name)
    user = variables.get("ansible_user")
    port = variables.get("ansible_port")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"ssh://{f'{user}@' if user else ''}{host}{f':{port}' if port else ''}"


def _hosts_from_yaml(data: Any) -> list[Host]:
    found: dict[str, Host] = {}

    def walk(group: Any, inherited: dict[str, Any]) -> None:
        if not isinstance(group, dict):
            return
        variables = {**inherited, **(group.get("vars") or {})}
        for name, host_vars in (group.get("hosts") or {}).items():
            found.setdefault(str(name), Host(str(name), _spec(str(name), {**variables, **(host_vars or {})})))
        for child in (group.get("children") or {}).values():
            walk(child, variables)

    if not isinstance(data, dict):
        raise InventoryError("a YAML inventory must be a mapping of groups (Ansible format)")
    for group in data.values():
        walk(group, {})
    return list(found.values())


def _hosts_from_ini(text: str) -> list[Host]:
    hosts: dict[str, dict[str, str]] = {}
    group_hosts: dict[str, list[str]] = {}
    group_vars: dict[str, dict[str, str]] = {}
    children: dict[str, list[str]] = {}
    section, kind = "ungrouped", None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = (
            raw.split("#", 1)[0].split(";", 1)[0].strip() if not raw.lstrip().startswith("[") else raw.strip()
        )
        if not line:
            continue
        header = _INI_SECTION.match(line)
        if header:
            section, kind = header.group(1), header.group(2)
            continue
        words = line.split()
        if kind == "vars":
            key, _, value = line.partition("=")
            group_vars.setdefault(section, {})[key.strip()] = value.strip()
        elif kind == "children":
            children.setdefault(section, []).append(words[0])
        else:
            variables = {}
            for word in words[1:]:
                key, sep, value = word.partition("=")
                if not sep:
                    raise InventoryError(f"inventory line {number}: expected key=value, got {word!r}")
                variables[key] = value
            hosts.setdefault(words[0], {}).update(variables)
            group_hosts.setdefault(section, []).append(words[0])

    def apply(group: str, variables: dict[str, str], seen: set[str]) -> None:
        if group in seen:
            return
        seen.add(group)
        merged = {**variables, **group_vars.get(group, {})}
        for name in group_hosts.get(group, []):
            for key, value in merged.items():
                hosts[name].setdefault(key, value)
        for child in children.get(group, []):
            apply(child, merged, seen)

    for group in list(group_vars):
        apply(group, {}, set())
    return [Host(name, _spec(name, variables)) for name, variables in hosts.items()]


def parse_inventory(text: str, filename: str) -> list[Host]:
    """A plain list (one target per line), an Ansible INI inventory, or an Ansible YAML inventory."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if filename.endswith((".yml", ".yaml")):
        try:
            hosts = _hosts_from_yaml(yaml.safe_load(text))
        except yaml.YAMLError as exc:
            raise InventoryError(f"{filename} is not valid YAML") from exc
    elif any(line.startswith("[") for line in lines) or any("=" in line for line in lines):
        hosts = _hosts_from_ini(text)
    else:
        hosts = [Host(line, _spec(line, {})) for line in lines]
    if not hosts:
        raise InventoryError(f"{filename} names no host")
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
