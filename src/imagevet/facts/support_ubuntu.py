"""Ubuntu Pro (ESM and the Legacy add-on), from the files ubuntu-pro-client writes (facts/support.py says
which and why)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from imagevet.facts.support_files import (
    ABSENT,
    ATTACHED,
    ESM_AUTH,
    ESM_HOST,
    ESM_SOURCES,
    MAX_STATUS_BYTES,
    PRO_STATUS,
    UNDECIDED,
    PaidSupport,
    read_file,
    repo_flag,
)
from imagevet.model import Unknown
from imagevet.target.base import Target

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
    """An apt source URI and the file that lists it."""

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
            if repo_flag(fields.get("enabled"), True) is not True:
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


def pro_support(target: Target) -> dict[str, PaidSupport]:
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
            text = read_file(target, path)
            if isinstance(text, Unknown):
                source_problems.append(text.reason)
            elif text is not None:
                sources.extend(parse_esm_sources(text, path))
    infra = [s for s in sources if s.uri.lower().startswith(f"{ESM_HOST}/infra")]

    raw = read_file(target, PRO_STATUS, MAX_STATUS_BYTES)
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
    auth = read_file(target, ESM_AUTH)
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
