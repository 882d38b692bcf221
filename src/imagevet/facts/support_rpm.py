"""RHEL EUS/E4S and SUSE LTSS, from the repositories and products the vendors' tools register
(facts/support.py says which and why)."""

from __future__ import annotations

import re

from imagevet.facts.support_files import (
    ABSENT,
    ATTACHED,
    RELEASEVER,
    SUSE_PRODUCTS,
    UNDECIDED,
    YUM_REPOS,
    ZYPP_REPOS,
    PaidSupport,
    read_file,
    repo_flag,
    repo_sections,
)
from imagevet.model import Unknown
from imagevet.target.base import Target

_EUS_ID = re.compile(r"(?:^|-)(eus|e4s)(?:-|$)", re.IGNORECASE)
_MINOR_RELEASE = re.compile(r"\d+\.\d+")


# ---------------------------------------------------------------------------------------------- RHEL EUS


def eus_support(target: Target) -> PaidSupport:
    name = "Red Hat Extended Update Support (EUS/E4S)"
    enabled: list[tuple[str, str]] = []
    problems: list[str] = []
    for path, repo_id, options in repo_sections(target, YUM_REPOS, problems):
        if not _EUS_ID.search(repo_id):
            continue
        flag = repo_flag(options.get("enabled"), True)  # dnf enables a repository without enabled=
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
        pinned = read_file(target, var, 4096)
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


def ltss_support(target: Target) -> PaidSupport:
    name = "SUSE Long Term Service Pack Support (LTSS)"
    for path in target.glob(SUSE_PRODUCTS):
        if "ltss" in path.rsplit("/", 1)[-1].lower() and target.is_file(path):
            return PaidSupport("ltss", ATTACHED, name, f"the LTSS product is registered ({path})", path)
    problems: list[str] = []
    for path, alias, options in repo_sections(target, ZYPP_REPOS, problems):
        if "ltss" not in alias.lower() and "ltss" not in options.get("name", "").lower():
            continue
        if repo_flag(options.get("enabled"), False) is True:  # counted only when enabled=1 says so
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
