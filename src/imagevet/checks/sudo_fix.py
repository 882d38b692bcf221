"""The fix that removes a negated sudo flag (``!authenticate``, ``!use_pty``) from every sudoers file,
named in the YAML as ``sudoers-negation: use_pty`` (checks/metadata.py), written once here for every flag.

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


def negation_removal_command(flag: str) -> str:
    """The command that removes every ``!flag`` (and ``!!flag``) from /etc/sudoers and /etc/sudoers.d."""
    if not _FLAG.fullmatch(flag):
        raise DataError(f"a sudoers-negation step names {flag!r}: not a sudoers flag")
    negation = rf"!+[[:space:]]*{flag}"
    defaults = "/^[[:space:]]*Defaults/"
    first = rf"{defaults}s/{negation}[[:space:]]*,[[:space:]]*//g"
    later = rf"{defaults}s/,[[:space:]]*{negation}([^A-Za-z0-9_]|$)/\1/g"
    lone = rf"/^[[:space:]]*Defaults[^[:space:]]*[[:space:]]+{negation}[[:space:]]*(#.*)?$/d"
    files = "--exclude='*.*' --exclude='*~' /etc/sudoers /etc/sudoers.d"  # as sudo skips names in includedir
    left = rf"^[[:space:]]*([^#[:space:]].*)?{negation}([^A-Za-z0-9_]|$)"
    return (
        f"{{ grep -rlE '{negation}' {files} 2>/dev/null || [ $? -eq 1 ]; }}"
        " | { imagevet_rc=0; while IFS= read -r f; do t=$(mktemp)"
        f" && sed -E -e '{first}' -e '{later}' -e '{lone}' \"$f\" > \"$t\" && visudo -c -q -f \"$t\""
        ' && cat "$t" > "$f" || imagevet_rc=1; rm -f "$t"; done; [ "$imagevet_rc" = 0 ]; }'
        f" && ! grep -rqE '{left}' {files}"
    )
