"""Vendor lifecycle rules: judging a release the catalog does not list, by its vendor's own policy.

The catalog lists releases one by one, with dates, and falls behind: Ubuntu publishes an interim
release every six months, Fedora twice a year. Vendors publish rules that decide some questions without
the list: an Ubuntu YY.10 release is never LTS, no Fedora release is, an interim Ubuntu release is
supported for nine months from the month in its version. The rules live in ``data/rules.yaml``, each
cited with the pages it was read from; this module reads them and answers, for one os-release, with
bounds rather than guesses: a support end is a window ``[earliest, latest]`` around the nominal date,
and a check decides only when the audit date falls outside it. A distribution without a rule, or a
version the rule does not recognise, gets no answer (``None`` with the reason), which the checks report
as ``error``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from imagevet.errors import DataError

LTS_ALWAYS = "always"
LTS_NEVER = "never"
_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_YY_MM = re.compile(r"([0-9]{1,2})\.([0-9]{2})", re.ASCII)


@dataclass(frozen=True)
class VendorRule:
    """One distribution's lifecycle policy, as data (see the header of data/rules.yaml)."""

    distro: str
    name: str
    version: re.Pattern[str]
    release_month: bool
    lts: str  # always | never | pattern
    lts_months: tuple[int, ...]
    lts_years: str  # even | odd | any
    lts_also: tuple[str, ...]
    support_months: dict[str, int]  # "lts" and/or "other"
    margin_months: int
    since: tuple[int, int] | None
    rule: str
    sources: tuple[str, ...]
    checked: dt.date

    def evidence(self) -> str:
        return f"{self.name}'s rule: {self.rule} ({'; '.join(self.sources)}, read {self.checked.isoformat()})"


@dataclass(frozen=True)
class Unlisted:
    """What a vendor rule says about a release the catalog does not list."""

    rule: VendorRule
    label: str
    lts: bool | None  # None: the rule cannot tell (the reason is in ``problem``)
    released: dt.date | None  # first day of the release month, when the version names it
    nominal_end: dt.date | None
    earliest_end: dt.date | None  # support lasts at least until this day
    latest_end: dt.date | None  # support ends by this day at the latest
    max_months: int | None  # the longest support the rule gives such a release, from its release
    problem: str = ""


def month_length(year: int, month: int) -> int:
    """The number of days of ``month`` (1-12) of ``year`` (calendar.monthrange's answer; importing
    calendar imports locale, at every start)."""
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, month_length(year, month + 1)))


def _release_month(version: str) -> dt.date | None:
    match = _YY_MM.match(version)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return None
    return dt.date(2000 + int(match.group(1)), int(match.group(2)), 1)


def _is_lts(rule: VendorRule, version: str, released: dt.date | None) -> bool | None:
    if rule.lts == LTS_ALWAYS:
        return True
    if rule.lts == LTS_NEVER:
        return False
    if version in rule.lts_also:
        return True
    if released is None:
        return None
    parity = {"even": released.year % 2 == 0, "odd": released.year % 2 == 1, "any": True}[rule.lts_years]
    return released.month in rule.lts_months and parity


def judge(rule: VendorRule, version_id: str, label: str) -> Unlisted:
    """The rule's answer for one VERSION_ID (pure; ``label`` names the release in evidence)."""
    if not rule.version.fullmatch(version_id):
        problem = f"its VERSION_ID is not in the form of a {rule.name} stable release"
        return Unlisted(rule, label, None, None, None, None, None, None, problem)
    released = _release_month(version_id) if rule.release_month else None
    if rule.release_month and released is None:
        problem = "its VERSION_ID does not name a release month (YY.MM)"
        return Unlisted(rule, label, None, None, None, None, None, None, problem)
    lts = _is_lts(rule, version_id, released)
    kinds = ["lts"] if lts else ["other"] if lts is False else ["lts", "other"]
    lengths = [rule.support_months[k] for k in kinds if k in rule.support_months]
    if not lengths:
        problem = f"{rule.name}'s rule gives no support length for such a release"
        return Unlisted(rule, label, lts, released, None, None, None, None, problem)
    longest = max(lengths) + rule.margin_months
    if released is None or lts is None or (rule.since and (released.year, released.month) < rule.since):
        return Unlisted(rule, label, lts, released, None, None, None, longest)
    months = lengths[0]
    nominal = add_months(released, months)
    earliest = add_months(released, months - rule.margin_months)
    last = add_months(released, months + rule.margin_months)
    latest = last.replace(day=month_length(last.year, last.month))
    return Unlisted(rule, label, lts, released, nominal, earliest, latest, longest)


# ----------------------------------------------------------------------------- loading


def _field(raw: dict[str, Any], name: str, where: str) -> Any:
    if name not in raw:
        raise DataError(f"rules.yaml: {where}: field '{name}' is missing")
    return raw[name]


def parse_rule(raw: Any, index: int) -> VendorRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise DataError(f"rules.yaml: {where}: must be a mapping")

    def fail(name: str, problem: str) -> DataError:
        return DataError(f"rules.yaml: {where}: field '{name}': {problem}")

    distro, name, rule_text = (_field(raw, f, where) for f in ("distro", "name", "rule"))
    if not all(isinstance(v, str) and v.strip() for v in (distro, name, rule_text)):
        raise fail("distro/name/rule", "must be non-empty strings")
    try:
        version = re.compile(str(_field(raw, "version", where)), re.ASCII)
    except re.error as exc:
        raise fail("version", "is not a regular expression") from exc
    lts_raw = _field(raw, "lts", where)
    months: tuple[int, ...] = ()
    years: str = "any"
    also: tuple[str, ...] = ()
    if isinstance(lts_raw, dict):
        months = tuple(lts_raw.get("months", ()))
        years = lts_raw.get("years", "any")
        also = tuple(str(v) for v in lts_raw.get("also", ()))
        if (
            not months
            or not all(isinstance(m, int) and 1 <= m <= 12 for m in months)
            or years
            not in (
                "even",
                "odd",
                "any",
            )
        ):
            raise fail("lts", "a pattern needs months (1-12) and years (even, odd or any)")
        lts = "pattern"
    elif lts_raw in (LTS_ALWAYS, LTS_NEVER):
        lts = lts_raw
    else:
        raise fail("lts", "must be always, never or a pattern")
    release_month = _field(raw, "release_month", where)
    if not isinstance(release_month, bool) or (lts == "pattern" and not release_month):
        raise fail("release_month", "must be true or false (true for an lts pattern)")
    support = _field(raw, "support_months", where)
    if not (
        isinstance(support, dict)
        and support
        and set(support) <= {"lts", "other"}
        and all(isinstance(v, int) and 0 < v < 600 for v in support.values())
    ):
        raise fail("support_months", "must map lts and/or other to a number of months")
    margin = _field(raw, "margin_months", where)
    if not isinstance(margin, int) or not 0 <= margin < 24:
        raise fail("margin_months", "must be a number of months from 0 to 23")
    since_raw = raw.get("since")
    since = None
    if since_raw is not None:
        match = _YEAR_MONTH.fullmatch(str(since_raw))
        if match is None:
            raise fail("since", "must be YYYY-MM")
        since = (int(match.group(1)), int(match.group(2)))
    sources = _field(raw, "sources", where)
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise fail("sources", "every rule needs at least one source")
    checked = _field(raw, "checked", where)
    if not isinstance(checked, dt.date) or isinstance(checked, dt.datetime):
        raise fail("checked", "must be the YYYY-MM-DD day the sources were read")
    return VendorRule(
        distro=distro.lower(),
        name=name,
        version=version,
        release_month=release_month,
        lts=lts,
        lts_months=months,
        lts_years=years,
        lts_also=also,
        support_months=dict(support),
        margin_months=margin,
        since=since,
        rule=" ".join(rule_text.split()),
        sources=tuple(sources),
        checked=checked,
    )


def parse_rules(data: Any) -> dict[str, VendorRule]:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise DataError("rules.yaml: top level must be a mapping with a 'rules' list")
    rules: dict[str, VendorRule] = {}
    for index, raw in enumerate(data["rules"]):
        rule = parse_rule(raw, index)
        if rule.distro in rules:
            raise DataError(f"rules.yaml: rules[{index}]: a second rule for {rule.distro}")
        rules[rule.distro] = rule
    return rules
