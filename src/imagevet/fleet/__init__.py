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

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from imagevet.errors import ImagevetError
from imagevet.fleet.hosts import MAX_CHARS, Host, HostResult, InventoryError, shown_name
from imagevet.fleet.inventories import parse_inventory
from imagevet.model import Report

__all__ = [
    "MAX_CHARS",
    "Host",
    "HostResult",
    "InventoryError",
    "audit_fleet",
    "parse_inventory",
    "shown_name",
]


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
