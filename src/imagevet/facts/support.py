"""Paid extended support the image has attached: Ubuntu Pro (ESM), RHEL EUS/E4S, SUSE LTSS.

Each detector reads the files the vendor's own tools write, through the target, and says for each catalog
tier kind it can see (``esm``, ``legacy``, ``eus``, ``ltss``) whether the image has it ``attached``, does
not have it (``absent``), or cannot be told (``undecided``, with the reason). Nothing here reads the clock:
a contract's expiry is recorded and the checks compare it with the audit date.

Ubuntu Pro (ubuntu-pro-client, formerly ubuntu-advantage-tools):
  ``/var/lib/ubuntu-advantage/status.json``  the client's status cache, written as root by ``pro status``
      and by attach/enable/refresh: the dict of ``uaclient/status.py`` (``attached``, ``expires`` as an ISO
      8601 datetime or null/"n/a" when unattached, ``services``: a list of ``{"name", "status", ...}`` with
      ``status`` ``enabled``/``disabled``/``n/a``/``warning``), serialised by ``DatetimeAwareJSONEncoder``.
  ``/etc/apt/sources.list.d/ubuntu-esm-*.{list,sources}``  the apt sources the client writes on enable
      (``deb https://esm.ubuntu.com/infra/ubuntu <series>-infra-security main``, or deb822 with ``URIs:``).
  ``/etc/apt/auth.conf.d/90ubuntu-advantage``  apt credentials, ``machine esm.ubuntu.com/infra/ubuntu/
      login bearer password <token>  # ubuntu-pro-client``: only the machine part is ever kept.
ESM counts only when all three agree: attached, esm-infra enabled, an enabled ESM source and its credentials;
the Legacy add-on the same way with its own service, esm-infra-legacy (enabling esm-infra does not buy it).

RHEL: an enabled repository whose id has ``-eus-`` or ``-e4s-`` (``rhel-9-for-x86_64-baseos-eus-rpms``)
in ``/etc/yum.repos.d/*.repo`` (subscription-manager writes ``redhat.repo``; RHUI cloud images their own
file), and the release pinned to a minor version in ``/etc/dnf/vars/releasever`` (``/etc/yum/vars`` on
RHEL 7): an EUS repository without a pinned minor release serves nothing.

SUSE: the LTSS product registered (``/etc/products.d/*LTSS*.prod``, installed by SUSEConnect with the
extension's release package) or an enabled zypp repository with LTSS in its alias or name
(``/etc/zypp/repos.d/*.repo``). Repository URLs carry registration tokens and are never kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from imagevet.model import Unknown
from imagevet.target.base import Target

ATTACHED = "attached"
ABSENT = "absent"
UNDECIDED = "undecided"

PRO_STATUS = "/var/lib/ubuntu-advantage/status.json"
ESM_SOURCES = ("/etc/apt/sources.list.d/ubuntu-esm-*.list", "/etc/apt/sources.list.d/ubuntu-esm-*.sources")
ESM_AUTH = "/etc/apt/auth.conf.d/90ubuntu-advantage"
ESM_HOST = "esm.ubuntu.com"
YUM_REPOS = "/etc/yum.repos.d/*.repo"
RELEASEVER = ("/etc/dnf/vars/releasever", "/etc/yum/vars/releasever")
SUSE_PRODUCTS = "/etc/products.d/*.prod"
ZYPP_REPOS = "/etc/zypp/repos.d/*.repo"

# A real status.json is a few kilobytes; anything near this is not the client's file.
MAX_STATUS_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024

_EUS_ID = re.compile(r"(?:^|-)(eus|e4s)(?:-|$)", re.IGNORECASE)
_MINOR_RELEASE = re.compile(r"\d+\.\d+")
_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off")


@dataclass(frozen=True)
class PaidSupport:
    """What the image's files say about one kind of paid support (a catalog tier kind)."""

    kind: str  # esm | legacy | eus | ltss
    state: str  # attached | absent | undecided
    name: str  # what it is, as the vendor calls it
    reason: str  # what was seen, as a sentence fragment ("Ubuntu Pro is attached, esm-infra enabled")
    path: str | None = None  # the image file it was detected from (or that decided it)
    expires: dt.date | None = None  # the contract's last day when the files record it

    @property
    def attached(self) -> bool:
        return self.state == ATTACHED


@dataclass(frozen=True)
class SupportFacts:
    """Paid support by tier kind; a kind imagevet cannot detect has no entry."""

    paid: dict[str, PaidSupport] = field(default_factory=dict)

    def of(self, kind: str) -> PaidSupport | None:
        return self.paid.get(kind)


# ---------------------------------------------------------------------------------------------- reading


def _absent(target: Target, path: str) -> bool:
    """Nothing at all at ``path`` (not even a link): a missing file, not an unreadable one."""
    return not target.exists(path) and target.readlink(path) is None


def _read(target: Target, path: str, limit: int = MAX_CONFIG_BYTES) -> str | Unknown | None:
    """The file's text, None when there is nothing at the path, or why it cannot be read."""
    if _absent(target, path):
        return None
    text = target.read_text(path, max_bytes=limit)
    if isinstance(text, Unknown) and not target.exists(path):
        return Unknown(f"{path} is a link that does not resolve inside the image")
    return text


def _ini_sections(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``[id]`` sections of a yum/zypp ``.repo`` file with their ``key=value`` options (last one wins)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    yield from sections.items()


def _flag(value: str | None, default: bool) -> bool | None:
    """A yum/zypp boolean; None when the value is not one."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


# ---------------------------------------------------------------------------------------------- Ubuntu Pro


@dataclass(frozen=True)
class ProStatus:
    """The parts of ubuntu-pro-client's status.json that decide ESM."""

    attached: bool
    expires: dt.datetime | None  # None: the file records no contract end
    services: dict[str, str]  # service name -> status (enabled, disabled, n/a, warning ...)


def parse_pro_status(text: str, path: str = PRO_STATUS) -> ProStatus | Unknown:
    """Parse status.json; anything not shaped as the client writes it is Unknown(reason)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Unknown(f"{path} is not valid JSON: {str(exc)[:120]}")
    if not isinstance(data, dict):
        return Unknown(f"{path} is not a JSON object")
    attached = data.get("attached")
    if not isinstance(attached, bool):
        return Unknown(f"{path}: 'attached' is {type(attached).__name__}, not true or false")
    services_raw = data.get("services", [])
    if not isinstance(services_raw, list):
        return Unknown(f"{path}: 'services' is {type(services_raw).__name__}, not a list")
    services: dict[str, str] = {}
    for item in services_raw:
        if not isinstance(item, dict):
            return Unknown(f"{path}: a service entry is {type(item).__name__}, not an object")
        name, status = item.get("name"), item.get("status", "")
        if not isinstance(name, str) or not isinstance(status, str):
            return Unknown(f"{path}: a service entry has a name or status that is not text")
        services[name] = status
    expires_raw = data.get("expires")
    expires: dt.datetime | None = None
    if isinstance(expires_raw, str) and expires_raw not in ("", "n/a"):
        try:
            expires = dt.datetime.fromisoformat(expires_raw.replace("Z", "+00:00"))
        except ValueError:
            return Unknown(f"{path}: 'expires' is not a date and time: {expires_raw[:40]!r}")
    elif expires_raw not in (None, "", "n/a"):
        return Unknown(f"{path}: 'expires' is {type(expires_raw).__name__}, not a date and time")
    return ProStatus(attached, expires, services)


@dataclass(frozen=True)
class AptSource:
    path: str
    uri: str  # scheme-less: esm.ubuntu.com/infra/ubuntu


def _strip_scheme(uri: str) -> str:
    return uri.split("://", 1)[1] if "://" in uri else uri


def parse_esm_sources(text: str, path: str) -> list[AptSource]:
    """Enabled ``deb`` entries on esm.ubuntu.com, one-line (``.list``) or deb822 (``.sources``) format."""
    found: list[AptSource] = []
    if path.endswith(".list"):
        for raw in text.splitlines():
            words = raw.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            rest = words[1:]
            if rest and rest[0].startswith("["):  # options: [signed-by=... arch=...]
                while rest and not rest[0].endswith("]"):
                    rest = rest[1:]
                rest = rest[1:]
            if rest:
                found.append(AptSource(path, _strip_scheme(rest[0]).rstrip("/")))
    else:
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            key = ""
            for raw in stanza.splitlines():
                if raw.startswith("#") or not raw.strip():
                    continue
                if raw[0] in " \t" and key:
                    fields[key] += " " + raw.strip()
                    continue
                key, _, value = raw.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if _flag(fields.get("enabled"), True) is not True:
                continue
            found.extend(
                AptSource(path, _strip_scheme(u).rstrip("/")) for u in fields.get("uris", "").split()
            )
    return [s for s in found if s.uri.split("/", 1)[0].lower() == ESM_HOST]


def parse_auth_machines(text: str) -> list[str]:
    """The ``machine`` values of an apt auth.conf (netrc-like); logins and passwords are never kept."""
    machines: list[str] = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        for index, word in enumerate(words[:-1]):
            if word == "machine":
                machines.append(_strip_scheme(words[index + 1]).rstrip("/"))
    return machines


def _pro_support(target: Target) -> dict[str, PaidSupport]:
    name = "Ubuntu Pro"

    def verdict(
        state: str, reason: str, path: str | None = PRO_STATUS, expires: dt.date | None = None
    ) -> dict[str, PaidSupport]:
        return {
            kind: PaidSupport(kind, state, f"{name} ({label})", reason, path, expires)
            for kind, label in (("esm", "ESM"), ("legacy", "Legacy add-on"))
        }

    sources: list[AptSource] = []
    source_problems: list[str] = []
    for pattern in ESM_SOURCES:
        for path in target.glob(pattern):
            text = _read(target, path)
            if isinstance(text, Unknown):
                source_problems.append(text.reason)
            elif text is not None:
                sources.extend(parse_esm_sources(text, path))
    infra = [s for s in sources if s.uri.lower().startswith(f"{ESM_HOST}/infra")]

    raw = _read(target, PRO_STATUS, MAX_STATUS_BYTES)
    if raw is None:
        if infra:
            where = ", ".join(sorted({s.path for s in infra}))
            return verdict(
                UNDECIDED,
                f"ESM apt sources are configured ({where}) but there is no {PRO_STATUS} to tell whether the "
                "machine is attached to a current contract",
                infra[0].path,
            )
        return verdict(ABSENT, f"Ubuntu Pro is not attached (no {PRO_STATUS}, no ESM apt source)", None)
    status = parse_pro_status(raw) if isinstance(raw, str) else raw
    if isinstance(status, Unknown):
        return verdict(UNDECIDED, f"the Ubuntu Pro status cannot be read: {status.reason}")
    if not status.attached:
        return verdict(ABSENT, f"Ubuntu Pro is not attached ({PRO_STATUS}: attached is false)")
    expires = status.expires.date() if status.expires is not None else None
    until = f", contract until {expires.isoformat()}" if expires else ""
    esm = _pro_service(target, status, "esm-infra", infra, source_problems, expires, until)
    legacy = _pro_service(target, status, "esm-infra-legacy", infra, source_problems, expires, until)
    return {
        "esm": PaidSupport("esm", esm[0], f"{name} (ESM)", esm[1], esm[2], expires),
        "legacy": PaidSupport("legacy", legacy[0], f"{name} (Legacy add-on)", legacy[1], legacy[2], expires),
    }


def _pro_service(
    target: Target,
    status: ProStatus,
    service: str,
    infra: list[AptSource],
    source_problems: list[str],
    expires: dt.date | None,
    until: str,
) -> tuple[str, str, str | None]:
    """(state, reason, path) of one ESM service of an attached machine: enabled in status.json, served by
    an enabled esm.ubuntu.com/infra apt source, with apt credentials for it."""
    state = status.services.get(service)
    if state != "enabled":
        return (
            ABSENT,
            f"Ubuntu Pro is attached{until}, but the {service} service is {state or 'not listed'}",
            PRO_STATUS,
        )
    if expires is None:
        return (
            UNDECIDED,
            f"Ubuntu Pro is attached with {service} enabled, but {PRO_STATUS} records no contract expiry",
            PRO_STATUS,
        )
    if not infra:
        problem = f": {'; '.join(source_problems)}" if source_problems else ""
        reason = (
            f"{PRO_STATUS} says {service} is enabled, but no enabled esm.ubuntu.com/infra apt source is "
            f"configured in /etc/apt/sources.list.d{problem}"
        )
        return (UNDECIDED if source_problems else ABSENT), reason, PRO_STATUS
    auth = _read(target, ESM_AUTH)
    if auth is None:
        return ABSENT, f"{service} is enabled but apt has no credentials for it (no {ESM_AUTH})", ESM_AUTH
    if isinstance(auth, Unknown):
        return UNDECIDED, f"the ESM apt credentials cannot be read: {auth.reason}", ESM_AUTH
    if not any(m.lower().startswith(f"{ESM_HOST}/infra") for m in parse_auth_machines(auth)):
        return ABSENT, f"{service} is enabled but {ESM_AUTH} has no entry for {ESM_HOST}/infra", ESM_AUTH
    reason = (
        f"Ubuntu Pro is attached (contract until {expires.isoformat()}), {service} enabled, apt source "
        f"{infra[0].path}"
    )
    return ATTACHED, reason, PRO_STATUS


def _repo_sections(
    target: Target, pattern: str, problems: list[str]
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(file, section, options) of every repository file matching ``pattern`` (yum and zypp share the
    INI form); a file that cannot be read is added to ``problems`` and skipped."""
    for path in target.glob(pattern):
        text = _read(target, path)
        if isinstance(text, Unknown):
            problems.append(text.reason)
            continue
        for section, options in _ini_sections(text or ""):
            yield path, section, options


# ---------------------------------------------------------------------------------------------- RHEL EUS


def _eus_support(target: Target) -> PaidSupport:
    name = "Red Hat Extended Update Support (EUS/E4S)"
    enabled: list[tuple[str, str]] = []
    problems: list[str] = []
    for path, repo_id, options in _repo_sections(target, YUM_REPOS, problems):
        if not _EUS_ID.search(repo_id):
            continue
        flag = _flag(options.get("enabled"), True)  # dnf enables a repository without enabled=
        if flag is None:
            problems.append(f"{path}: [{repo_id}] has enabled={options.get('enabled')!r}")
        elif flag:
            enabled.append((path, repo_id))
    if not enabled:
        if problems:
            return PaidSupport("eus", UNDECIDED, name, "; ".join(problems), None)
        return PaidSupport("eus", ABSENT, name, "no EUS or E4S repository is enabled in /etc/yum.repos.d")
    path, repo_id = enabled[0]
    more = f" and {len(enabled) - 1} more" if len(enabled) > 1 else ""
    repos = f"{repo_id}{more} enabled in {path}"
    for var in RELEASEVER:
        pinned = _read(target, var, 4096)
        if pinned is None:
            continue
        if isinstance(pinned, Unknown):
            return PaidSupport(
                "eus", UNDECIDED, name, f"{repos}; the pinned release cannot be read: {pinned}", var
            )
        value = pinned.strip()
        if not _MINOR_RELEASE.fullmatch(value):
            return PaidSupport(
                "eus", ABSENT, name, f"{repos}, but {var} pins {value[:20]!r}, not a minor release", var
            )
        return PaidSupport("eus", ATTACHED, name, f"{repos}, release pinned to {value} in {var}", path)
    return PaidSupport(
        "eus",
        ABSENT,
        name,
        f"{repos}, but the release is not pinned to a minor version (no {RELEASEVER[0]})",
        path,
    )


# ---------------------------------------------------------------------------------------------- SUSE LTSS


def _ltss_support(target: Target) -> PaidSupport:
    name = "SUSE Long Term Service Pack Support (LTSS)"
    for path in target.glob(SUSE_PRODUCTS):
        if "ltss" in path.rsplit("/", 1)[-1].lower() and target.is_file(path):
            return PaidSupport("ltss", ATTACHED, name, f"the LTSS product is registered ({path})", path)
    problems: list[str] = []
    for path, alias, options in _repo_sections(target, ZYPP_REPOS, problems):
        if "ltss" not in alias.lower() and "ltss" not in options.get("name", "").lower():
            continue
        if _flag(options.get("enabled"), False) is True:  # counted only when enabled=1 says so
            return PaidSupport(
                "ltss", ATTACHED, name, f"the LTSS repository {alias} is enabled in {path}", path
            )
    if problems:
        return PaidSupport("ltss", UNDECIDED, name, "; ".join(problems))
    return PaidSupport(
        "ltss",
        ABSENT,
        name,
        "no LTSS product in /etc/products.d and no enabled LTSS repository in /etc/zypp/repos.d",
    )


def gather_support(target: Target) -> SupportFacts:
    paid = _pro_support(target)
    paid["eus"] = _eus_support(target)
    paid["ltss"] = _ltss_support(target)
    return SupportFacts(paid)
