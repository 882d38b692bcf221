"""The login banners' text (banner-motd, banner-issue, banner-issue-net): a banner says who may log in,
not what the machine runs. CIS's audit fails one that carries agetty's escapes for the OS release, name,
version or machine (``\\r``, ``\\s``, ``\\v``, ``\\m``, which /etc/issue expands before every console login)
or the os-release ID, matched as its audit greps it: anywhere, in any case. /etc/issue and /etc/issue.net
must say something (a missing or blank one warns nobody); a missing /etc/motd is no message at all.

What counts as a proper warning is the site's policy; SSG's CIS profile wants one exact text
("Authorized users only. All activity may be monitored and reported.", its cis_default), which the fixes
write and which passes here too."""

from __future__ import annotations

import re

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.model import Evidence, OsRelease, Outcome, Status, Unknown

_ESCAPES = re.compile(r"\\[mrsv]")


def _judged(facts: Facts, path: str, missing: Status) -> Outcome:
    banner = facts.banner(path)
    if isinstance(banner, Unknown):
        return Outcome.of(Status.ERROR, banner.reason)
    if banner.text is None:
        return Outcome.of(missing, Evidence(f"{path} does not exist", path))
    if not banner.shows_text:
        return Outcome.of(missing, Evidence(f"{path} is empty", path))
    found = sorted(set(_ESCAPES.findall(banner.text)))
    os = facts.os_release
    if isinstance(os, OsRelease):
        if os.id and os.id.lower() in banner.text.lower():
            found.append(f"the OS name {os.id!r}")
    elif not found:
        return Outcome.of(Status.ERROR, f"the OS name to look for is unknown: {os.reason}")
    if found:
        return Outcome.of(Status.FAIL, Evidence(f"{path} shows {', '.join(found)}", path))
    lines = len(banner.text.splitlines())
    return Outcome.of(Status.PASS, Evidence(f"{path}: {lines} line(s), no OS release, name or version", path))


def motd(facts: Facts, options: CheckOptions) -> Outcome:
    return _judged(facts, "/etc/motd", Status.SKIP)


def issue(facts: Facts, options: CheckOptions) -> Outcome:
    return _judged(facts, "/etc/issue", Status.FAIL)


def issue_net(facts: Facts, options: CheckOptions) -> Outcome:
    return _judged(facts, "/etc/issue.net", Status.FAIL)
