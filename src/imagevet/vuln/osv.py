"""OSV records (https://ossf.github.io/osv-schema/): parse and normalise what matching needs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from imagevet.vuln.cvss import cvss3_base_score, severity_of_score

# Distro ratings, normalised: Red Hat family's words, Ubuntu's priorities, Debian's urgency.
_RATINGS = {
    "critical": "critical",
    "important": "high",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
    "unimportant": "low",
}
_SUMMARY_RATING = re.compile(r"^\s*(Critical|Important|Moderate|Low)\s*:", re.IGNORECASE)
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")


MAX_RATING_DEPTH = 4  # ratings sit at most two levels down (database_specific.severity, severity[].score)
MAX_AFFECTED = 20_000  # the largest real records (kernel CVEs) list a few thousand affected entries


class OsvError(ValueError):
    """A record that does not follow the OSV schema where matching depends on it."""


def decode_record(data: bytes) -> Any:
    """JSON text -> a value, or OsvError (not JSON, not UTF-8, nested too deeply for the parser)."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise OsvError("not UTF-8 text") from exc
    except RecursionError as exc:  # json's C scanner guards its own recursion
        raise OsvError("nested too deeply to be an OSV record") from exc
    except json.JSONDecodeError as exc:
        raise OsvError(f"not valid JSON ({exc.__class__.__name__})") from exc


def read_record(data: bytes) -> tuple[Any, bool]:
    """decode_record's value, and whether it can hold a lone surrogate (surrogates_possible), for the
    importer: orjson reads it first (two to three times json's speed; a fifth of an import of 200,000
    records was json). orjson reads only UTF-8 without a byte order mark and refuses every lone surrogate,
    escaped or encoded, so what it reads holds none; what it refuses (those, NaN, 1e400, nesting past 1,024)
    goes to json, which accepts or refuses it as before. The one value they read differently, an integer
    past 64 bits (orjson: a float), is no text, list or object, the only things parse_record reads."""
    import orjson

    try:
        return orjson.loads(data), False
    except orjson.JSONDecodeError:
        return decode_record(data), surrogates_possible(data)


def surrogates_possible(data: bytes) -> bool:
    """Whether the JSON text ``data`` can decode to a lone surrogate: it holds a ``\\uD800``-``\\uDFFF``
    escape, or a surrogate encoded as UTF-8 (json decodes bytes with ``surrogatepass``), or it is not UTF-8
    (json also reads UTF-16 and UTF-32). When not, parse_record need not look for them."""
    if json.detect_encoding(data) not in ("utf-8", "utf-8-sig"):
        return True
    return bool(_SURROGATE_ESCAPE.search(data) or _SURROGATE_UTF8.search(data))


@dataclass(frozen=True)
class Affected:
    """One ``affected`` entry of an OSV record: a package of an ecosystem, its ranges and listed versions."""

    ecosystem: str
    package: str
    ranges: tuple[tuple[tuple[str, str], ...], ...]  # per ECOSYSTEM range: ((event, version), ...)
    versions: tuple[str, ...]
    severity: str | None  # ecosystem_specific / database_specific rating, normalised
    # Filled by the database (stored.py): ``ranges`` with each range's events already sorted for the
    # scheme ``sorted_for`` (None: they are in order as given); sorted_for "": matching sorts them.
    ordered: tuple[tuple[tuple[str, str], ...], ...] | None = None
    sorted_for: str = ""


class Advisory(NamedTuple):
    """An OSV record as imagevet matches it: id, aliases, severity and its affected packages. A named tuple,
    not a frozen dataclass: a scan makes one per advisory that finds something (19,000 in the benchmark),
    and a frozen dataclass costs four times as much to make (1.7 against 0.4 microseconds)."""

    id: str
    modified: str
    withdrawn: str | None
    summary: str
    aliases: tuple[str, ...]  # CVE and other ids this advisory covers (aliases, related, upstream)
    severity: str  # critical | high | medium | low | unknown
    score: float | None
    affected: tuple[Affected, ...]


def _rating(value: Any, depth: int = 0) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _RATINGS.get(value.strip().lower())
    if depth >= MAX_RATING_DEPTH:
        return None
    if isinstance(value, dict):
        for key in ("severity", "priority", "urgency"):
            found = _rating(value.get(key), depth + 1)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _rating(item.get("score") if isinstance(item, dict) else item, depth + 1)
            if found:
                return found
    return None


def _text(value: Any) -> str:
    """A JSON string, or "" (never ``str()`` of a structure: that could be arbitrarily deep)."""
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    """A JSON array, or nothing: a field of the wrong type is ignored where matching does not need it."""
    return value if isinstance(value, list) else []


def _required_list(parent: dict[str, Any], key: str) -> list[Any]:
    """A field matching depends on (ranges, events, versions): absent is empty, any other type refuses the
    record, because ignoring it would hide the packages it names."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OsvError(f"'{key}' is not a list")
    return value


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse_record(record: Any, surrogates: bool = True) -> Advisory:
    """The advisory of a decoded OSV record, or OsvError. ``surrogates=False`` says the text it was decoded
    from cannot hold a lone surrogate (surrogates_possible), which spares looking for one."""
    if not isinstance(record, dict):
        raise OsvError("record is not a JSON object")
    advisory_id = record.get("id")
    if not isinstance(advisory_id, str) or not advisory_id:
        raise OsvError("record has no id")
    if len(advisory_id) > 200 or not advisory_id.isprintable():
        raise OsvError("record id is not a printable string of at most 200 characters")
    affected_raw = record.get("affected")
    if not isinstance(affected_raw, list):
        raise OsvError("'affected' is not a list")
    if len(affected_raw) > MAX_AFFECTED:
        raise OsvError(f"more than {MAX_AFFECTED} affected entries")
    score = None
    for item in _list(record.get("severity")):
        if isinstance(item, dict) and _text(item.get("type")).startswith("CVSS_V3"):
            computed = cvss3_base_score(_text(item.get("score")))
            if computed is not None:
                score = max(score or 0.0, computed)
    affected = []
    ratings: list[str] = []
    for entry in affected_raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), dict):
            raise OsvError("an affected entry has no package")
        package = entry["package"]
        if not isinstance(package.get("ecosystem"), str) or not isinstance(package.get("name"), str):
            raise OsvError("an affected package lacks ecosystem or name")
        ranges = []
        for range_raw in _required_list(entry, "ranges"):
            if not isinstance(range_raw, dict) or range_raw.get("type") != "ECOSYSTEM":
                continue  # GIT and SEMVER ranges do not apply to OS packages
            events = []
            for event in _required_list(range_raw, "events"):
                if not isinstance(event, dict) or len(event) != 1:
                    raise OsvError("a range event must have exactly one key")
                ((kind, version),) = event.items()
                if kind not in ("introduced", "fixed", "last_affected", "limit") or not isinstance(
                    version, str
                ):
                    raise OsvError("a range event is not introduced/fixed/last_affected/limit")
                events.append((kind, version))
            ranges.append(tuple(events))
        rating = _rating(entry.get("ecosystem_specific")) or _rating(entry.get("database_specific"))
        if rating:
            ratings.append(rating)
        affected.append(
            Affected(
                package["ecosystem"],
                package["name"],
                tuple(ranges),
                tuple(_strings(_required_list(entry, "versions"))),
                rating,
            )
        )
    summary = (_text(record.get("summary")) or _text(record.get("details"))).strip().splitlines()[0:1]
    summary_text = summary[0] if summary else ""
    match = _SUMMARY_RATING.match(summary_text)
    record_rating = _rating(record.get("database_specific")) or _rating(record.get("severity"))
    if match:
        ratings.append(_RATINGS[match.group(1).lower()])
    if record_rating:
        ratings.append(record_rating)
    if score is not None:
        severity = severity_of_score(score)
    elif ratings:
        order = ["low", "medium", "high", "critical"]
        severity = max(ratings, key=order.index)
    else:
        severity = "unknown"
    aliases: dict[str, None] = {}
    for value in (
        _strings(record.get("aliases")) + _strings(record.get("related")) + _strings(record.get("upstream"))
    ):
        found = _CVE.search(value)
        alias = found.group(0) if found and value.endswith(found.group(0)) else value
        if alias != advisory_id:
            aliases[alias] = None
    modified, withdrawn = record.get("modified"), record.get("withdrawn")
    advisory = Advisory(
        id=advisory_id,
        modified=modified if isinstance(modified, str) else "",
        withdrawn=withdrawn if isinstance(withdrawn, str) else None,
        summary=summary_text,
        aliases=tuple(aliases),
        severity=severity,
        score=score,
        affected=tuple(affected),
    )
    _require_encodable(advisory, surrogates)
    return advisory


def _require_encodable(advisory: Advisory, surrogates: bool) -> None:
    """JSON may carry lone surrogates (``"\\ud800"``) that no UTF-8 database can store, and control
    characters in versions and aliases, which no packaging scheme or advisory id has (and the database's
    ready form, stored.py, uses as separators)."""
    texts = [advisory.id, advisory.modified, advisory.withdrawn or "", advisory.summary, *advisory.aliases]
    if _CONTROL.search("".join(advisory.aliases)):
        raise OsvError("an alias contains a control character")
    for entry in advisory.affected:
        versions = [*entry.versions, *(version for events in entry.ranges for _, version in events)]
        if _CONTROL.search("".join(versions)):
            raise OsvError("a version contains a control character")
        texts += [entry.ecosystem, entry.package, *versions]
    if not surrogates:
        return
    try:
        "\0".join(texts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise OsvError("a text is not valid Unicode (lone surrogate)") from exc
