"""A fleet's hosts: the target each inventory entry names, checked value by value (ports, host names,
users, Ansible's connection variables), and the name a host is shown by. The formats that list them are
parsed in fleet/inventories.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.catalog.safe_yaml import Limits
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
IPV6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", re.ASCII)
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
    if _NAME.fullmatch(host) or (":" in host and IPV6.fullmatch(host)):
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


def target_of(text: str) -> str:
    """A plain-list line as a target spec."""
    if text.startswith(LOCAL_PREFIXES):
        return text
    if text.startswith("ssh://"):
        return address(text.removeprefix("ssh://").removesuffix("/")).spec()
    if "://" in text:
        return text  # another kind of target: the target layer judges it, host by host
    return address(text).spec()


def checked_name(text: str) -> str:
    if not text or _UNPRINTABLE.search(text) or len(text) > 4096:
        raise Problem("not a target (one per line, without spaces or control characters)")
    if _RANGE.search(text):
        raise Problem("host ranges such as web[01:50] are not supported: list the hosts")
    return text


def host_entry(name: str, group_vars: dict[str, object], host_vars: dict[str, object]) -> Host:
    """An INI or YAML host with its checked variables. As in Ansible, ``host:port`` in the name sets the
    host's ``ansible_port``: it beats group variables, and an explicit host variable beats it."""
    if name.startswith(LOCAL_PREFIXES) or "://" in name:
        return Host(shown_name(name), target_of(name))
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


def ssh_variable(key: str, value: object) -> tuple[str, object] | None:
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
