"""glob(3) as sshd expands ``Include``, over a root-confined target and within a budget of directory
entries, so that no configuration can make the expansion unbounded."""

from __future__ import annotations

import re
from collections.abc import Callable

from imagevet.model import Unknown
from imagevet.target.base import Target

Globber = Callable[[str], list[str]]
MAX_GLOB_ENTRIES = 20_000  # directory entries examined by Include globs


class GlobBudgetExceeded(Exception):
    """An Include glob would examine more directory entries than the budget allows."""


def _glob_regex(part: str) -> re.Pattern[str]:
    """glob(3)/fnmatch(3) for one path component: ``*``, ``?``, ``[...]`` (``!`` or ``^`` negates) and
    backslash escapes (sshd calls glob without GLOB_NOESCAPE). POSIX classes like ``[:alpha:]`` are
    not supported (they match literally here)."""
    out, i, n = [], 0, len(part)
    while i < n:
        ch = part[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(part[i + 1]))
            i += 2
        elif ch == "*":
            out.append(".*")
            i += 1
        elif ch == "?":
            out.append(".")
            i += 1
        elif ch == "[":
            j = i + 1
            if j < n and part[j] in "!^":
                j += 1
            if j < n and part[j] == "]":
                j += 1
            while j < n and part[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(ch))
                i += 1
                continue
            body = part[i + 1 : j]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = j + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _has_magic(part: str) -> bool:
    return any(ch in "*?[" for ch in re.sub(r"\\.", "", part))


def bounded_glob(target: Target, limit: int = MAX_GLOB_ENTRIES) -> Globber:
    """glob(3) with GLOB flags 0, as sshd expands Include, over the root-confined target: sorted
    results, no leading-dot names unless the pattern's component starts with a dot, a name without
    wildcards kept when it exists (even as a dangling link). Every directory entry examined counts
    against ``limit`` across all calls, so no configuration can make the expansion unbounded."""
    examined = [0]

    def glob(pattern: str) -> list[str]:
        matches = [""]
        for part in (p for p in pattern.split("/") if p):
            following: list[str] = []
            if not _has_magic(part):
                literal = re.sub(r"\\(.)", r"\1", part)
                following = [f"{prefix}/{literal}" for prefix in matches]
            else:
                regex = _glob_regex(part)
                hidden_ok = part.startswith((".", "\\."))
                for prefix in matches:
                    names = target.list_dir(prefix or "/")
                    if isinstance(names, Unknown):
                        continue
                    examined[0] += len(names)
                    if examined[0] > limit:
                        raise GlobBudgetExceeded
                    following.extend(
                        f"{prefix}/{name}"
                        for name in names
                        if regex.fullmatch(name) and (hidden_ok or not name.startswith("."))
                    )
            matches = following
            if len(matches) > limit:
                raise GlobBudgetExceeded
        return sorted(m for m in matches if m and (target.exists(m) or target.readlink(m) is not None))

    return glob
