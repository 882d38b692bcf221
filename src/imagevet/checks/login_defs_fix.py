"""The fix that sets one /etc/login.defs setting, named in the YAML as ``login-defs: {UMASK: "027"}``
(checks/metadata.py) and written once here for every row that judges a login.defs key.

Every active line of the key gets the value (shadow's getdef keeps the last one it reads, and the check
reads it the same way), and where there is none the setting is appended. Comments are left as they are:
the hand-written seds this replaces also turned "# UMASK is the default umask value ..." into a setting,
and one (UMASK) appended nothing where login.defs had no line, leaving the script saying "applied" while
the check failed (red-team of issue 20). A missing login.defs fails the fix."""

from __future__ import annotations

import re

from imagevet.errors import DataError

_KEY = re.compile(r"[A-Z][A-Z0-9_]*")
_VALUE = re.compile(r"[A-Za-z0-9]+")
LOGIN_DEFS = "/etc/login.defs"


def login_defs_command(key: str, value: str) -> str:
    """The command that makes ``key`` ``value`` in /etc/login.defs."""
    if not _KEY.fullmatch(key) or not _VALUE.fullmatch(value):
        raise DataError(f"a login-defs step cannot set {key!r} to {value!r}")
    line = rf"^[[:space:]]*{key}([[:space:]].*)?$"
    return (
        f"[ -f {LOGIN_DEFS} ] && sed -i -E 's/{line}/{key}\\t{value}/' {LOGIN_DEFS}"
        f" && {{ grep -Eq '{line}' {LOGIN_DEFS} || printf '%s\\t%s\\n' {key} {value} >> {LOGIN_DEFS}; }}"
    )
