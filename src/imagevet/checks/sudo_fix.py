"""The sudoers edits, written once here and named in the YAML (checks/metadata.py): ``sudoers-negation:
use_pty`` removes a negated flag (``!authenticate``, ``!use_pty``) from every sudoers file, and
``sudoers-timeout: 15`` lowers every longer ``timestamp_timeout``. Both edit each file the same way
(_edit_each), then read again what is left.

Why a removal and not only a drop-in that sets the flag: CIS audits these flags by "off nowhere" (a scoped
``Defaults:alice !use_pty`` weakens it for alice whatever the global value), and checks/sudo.py judges them
so. The command edits a copy of each file that names the negation: a ``Defaults`` line left with nothing
else is dropped, and the flag is cut from a list; the copy is written back (``cat >``, keeping the file's
owner and mode) only when ``visudo -c`` accepts it, so a file sudo would refuse is never made; a refused
edit fails the fix. Only ``Defaults`` lines are edited (comments are left as written), ``! flag`` with blanks
and a trailing comment are matched, and files sudo's includedir skips (a dot or a final ~ in the name) are
not touched. Afterwards any negation still on a line that is not a comment (a continued line, a form the
edit does not know) fails the fix by name instead of passing silently. A second run
finds nothing to edit, and that is no failure: the script runs with pipefail, so grep's "no match" (1) is
let through and only its error (2, an unreadable file) fails the fix.
"""

from __future__ import annotations

import re

from imagevet.errors import DataError

_FLAG = re.compile(r"[a-z_]+")


FILES = "--exclude='*.*' --exclude='*~' /etc/sudoers /etc/sudoers.d"  # as sudo skips names in includedir
DEFAULTS = "/^[[:space:]]*Defaults/"


def _edit_each(select: str, sed: str, verify: str) -> str:
    """Edit, as a copy that visudo must accept, each sudoers file with a line matching ``select``; then
    ``verify``. The loop keeps a status (a refused edit fails the command, the other files are still
    edited), and grep's "no match" is no failure under pipefail where its error is."""
    return (
        f"{{ grep -rlE '{select}' {FILES} 2>/dev/null || [ $? -eq 1 ]; }}"
        " | { imagevet_rc=0; while IFS= read -r f; do t=$(mktemp)"
        f' && sed -E {sed} "$f" > "$t" && visudo -c -q -f "$t"'
        ' && cat "$t" > "$f" || imagevet_rc=1; rm -f "$t"; done; [ "$imagevet_rc" = 0 ]; }'
        f" && {verify}"
    )


def negation_removal_command(flag: str) -> str:
    """The command that removes every ``!flag`` (and ``!!flag``) from /etc/sudoers and /etc/sudoers.d."""
    if not _FLAG.fullmatch(flag):
        raise DataError(f"a sudoers-negation step names {flag!r}: not a sudoers flag")
    negation = rf"!+[[:space:]]*{flag}"
    first = rf"{DEFAULTS}s/{negation}[[:space:]]*,[[:space:]]*//g"
    later = rf"{DEFAULTS}s/,[[:space:]]*{negation}([^A-Za-z0-9_]|$)/\1/g"
    lone = rf"/^[[:space:]]*Defaults[^[:space:]]*[[:space:]]+{negation}[[:space:]]*(#.*)?$/d"
    left = rf"^[[:space:]]*([^#[:space:]].*)?{negation}([^A-Za-z0-9_]|$)"
    # Only "no match" (1) passes: an unreadable file (2) must not read as "none left".
    verify = f"{{ grep -rqE '{left}' {FILES}; [ $? -eq 1 ]; }}"
    return _edit_each(negation, f"-e '{first}' -e '{later}' -e '{lone}'", verify)


# Minutes above 15, or negative (never expires), as sudoers writes them (a number, maybe quoted).
_LONGER = r"-[0-9.]+|1[6-9][0-9.]*|[2-9][0-9][0-9.]*|[1-9][0-9]{2,}[0-9.]*|15\.[0-9]*[1-9][0-9]*"
_WITHIN = r"(1[0-4]|[0-9])(\.[0-9]*)?|15(\.0*)?"


def timeout_cap_command(minutes: int = 15) -> str:
    """The command that lowers every ``timestamp_timeout`` above 15 minutes (or negative) to 15 in
    /etc/sudoers and /etc/sudoers.d, leaving stricter ones; afterwards a Defaults line whose timeout is not
    a number of minutes within 15 (``!timestamp_timeout``, ask every time, is) fails the command, so a form
    the edit does not know (a continued line) is named instead of passed."""
    if minutes != 15:
        raise DataError("timestamp_timeout is capped at CIS's 15 minutes")
    name = "timestamp_timeout"
    lines = rf"^[[:space:]]*Defaults.*{name}"
    cap = rf'{DEFAULTS}s/{name}[[:space:]]*=[[:space:]]*"?({_LONGER})"?/{name}={minutes}/g'
    within = rf'{name}[[:space:]]*=[[:space:]]*"?({_WITHIN})"?([^0-9.]|$)|![[:space:]]*{name}([^=_a-z]|$)'
    left = f"""! printf '%s\\n' "$imagevet_left" | grep -vE '{within}' >/dev/null"""
    found = f"imagevet_left=$(grep -rhE '{lines}' {FILES}; [ $? -le 1 ])"
    verify = f'{found} && {{ [ -z "$imagevet_left" ] || {left}; }}'
    return _edit_each(lines, f"'{cap}'", verify)
