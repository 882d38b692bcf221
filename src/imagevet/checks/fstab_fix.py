"""The fix of a mount-option row (``mount-tmp-nodev`` and the others): one shell command that adds the
option to every /etc/fstab line of the mount point, written once here and named in the YAML as
``fstab: {mount: /tmp, option: nodev}`` (checks/metadata.py), so sixteen rows do not carry sixteen copies.

What the command does, and why:
- lines are matched as facts/mounts.py matches them (comments skipped, ``/tmp/`` and ``//tmp`` are /tmp);
- a line where the option already holds as mount(8) reads the list (left to right: a later opposite,
  ``dev`` for ``nodev``, or ``defaults``, which means dev, suid and exec, undoes it; values.has_option)
  is left as it is; otherwise the option is appended at the end and any earlier copy of it or of its
  opposite dropped, so fixing nodev, nosuid and noexec of one line in any order converges;
- a line of three fields gets ``defaults,<option>`` as its fourth; one of two fields (no type) is left
  alone, and the re-audit then still names it;
- the file is replaced only when the result differs, by renaming a complete copy with the original's
  owner and mode over it (a second run changes nothing, an interrupted one leaves the old or the new
  file); a missing /etc/fstab is left missing (no line, nothing to fix: the check is then n/a).
POSIX sh and POSIX awk only: Debian's mawk, busybox and gawk run it alike.
"""

from __future__ import annotations

import re

from imagevet.errors import DataError

# The options a mount-option row may ask for: the ones CIS asks of separate partitions.
OPTIONS = frozenset({"nodev", "nosuid", "noexec"})
_MOUNT_POINT = re.compile(r"(/[A-Za-z0-9._-]+)+")

_AWK = r"""
function norm(p,  n, i, parts, out) {
  if (substr(p, 1, 1) != "/") return p
  n = split(p, parts, "/"); out = ""
  for (i = 1; i <= n; i++) if (parts[i] != "") out = out "/" parts[i]
  return out == "" ? "/" : out
}
/^[ \t]*#/ || NF < 3 || norm($2) != point { print; next }
{
  if (NF < 4) $4 = "defaults"
  n = split($4, words, ","); kept = ""; holds = 0
  for (i = 1; i <= n; i++) {
    if (words[i] == option) holds = 1
    else if (words[i] == substr(option, 3) || words[i] == "defaults") holds = 0
    if (words[i] != option && words[i] != substr(option, 3)) kept = kept (kept == "" ? "" : ",") words[i]
  }
  if (!holds) $4 = (kept == "" ? "" : kept ",") option
  print
}
""".strip()
assert "'" not in _AWK


def fstab_option_command(mount: str, option: str) -> str:
    """The shell command that makes ``option`` hold on every fstab line of ``mount``; DataError for a
    mount point or option the rows never ask for (the command is built from them)."""
    if not _MOUNT_POINT.fullmatch(mount) or option not in OPTIONS:
        raise DataError(f"fstab fix: {mount!r} {option!r} is not an absolute mount point and one of "
                        f"{', '.join(sorted(OPTIONS))}")  # fmt: skip
    program = f"'{_AWK}'"  # no single quote inside (asserted at import): quoted as is
    return (
        'f=/etc/fstab; if [ -L "$f" ]; then echo "imagevet: $f is a link; left as it is" >&2; false; '
        'elif [ -f "$f" ]; then new=$(mktemp "$f.imagevet-XXXXXX") && { '
        f"awk -v OFS='\\t' -v point={mount} -v option={option} {program} " + '"$f" > "$new" '
        '&& { cmp -s "$new" "$f" && rm -f "$new" || { chown --reference="$f" "$new" '
        '&& chmod --reference="$f" "$new" && mv -f "$new" "$f"; }; } || { rm -f "$new"; false; }; }; fi'
    )
