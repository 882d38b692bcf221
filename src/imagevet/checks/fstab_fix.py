"""The fix of a mount-option row (``mount-tmp-nodev`` and the others): one shell command that adds the
option to every /etc/fstab line of the mount point, written once here and named in the YAML as
``fstab: {mount: /tmp, option: nodev}`` (checks/metadata.py), so sixteen rows do not carry sixteen copies.

What the command does, and why:
- lines are matched as facts/mounts.py matches them (comments skipped; ``/tmp/``, ``//tmp`` and ``/./tmp``
  are /tmp);
- a line where the option already holds as libmount reads the list (left to right: set by itself or
  by user, users, owner or group, which imply it, undone by a later opposite, ``dev`` for ``nodev``;
  ``defaults`` changes none of them; values.has_option) is left as it is; otherwise the option is
  appended at the end and any earlier copy of it or of its opposite dropped, so fixing nodev, nosuid
  and noexec of one line in any order converges (a quoted value, split at its commas here, is not
  looked into by the audit: where the two differ, the re-audit says so);
- a line of three fields gets ``defaults,<option>`` as its fourth; one of two fields (no type) is left
  alone, and the re-audit then still names it;
- a line is split as libmount splits it (one carriage return before the newline dropped and put back,
  fields at spaces and tabs), the same reading as the audit's;
- the file is replaced only when some line changed (awk exits 3 when none did: a file without a final
  newline is not rewritten for it), by renaming a complete copy, made by mktemp so no planted name is
  written through, with the original's owner and mode (``stat -c``, as GNU and busybox both read it)
  over it; the copy must have as many lines as the original, which catches an awk that lost a write
  error (busybox's) and one that split a line at a NUL (refused before, with a name); an interrupted run
  removes its copy (trap) and leaves the old file;
- a link at /etc/fstab, or something there that is not a regular file, is a failure left as it is (the
  rename would cut the link); a line over 64 KiB is refused (the option list is rebuilt word by word);
  a missing /etc/fstab is left missing (no line, nothing to fix: the check is then n/a);
- with ``add`` (``fstab: {mount: /dev/shm, option: noexec, add: "tmpfs /dev/shm tmpfs ..."}``), for a
  mount point mounted without a line (systemd mounts /dev/shm itself), that line is appended where no
  line names the mount point, and a missing /etc/fstab is made (root's, mode 644) to hold it; the line
  must carry the option, and what the mount had without it (systemd's nosuid and nodev), since the line's
  options replace those.
POSIX sh and POSIX awk only: Debian's mawk, busybox and gawk run it alike; it runs in a subshell, so its
trap and exits stay its own.
"""

from __future__ import annotations

import re

from imagevet.errors import DataError

# The options a mount-option row may ask for: the ones CIS asks of separate partitions.
OPTIONS = frozenset({"nodev", "nosuid", "noexec"})
_MOUNT_POINT = re.compile(r"(/[A-Za-z0-9._-]+)+")

# Exit 3: every line already right, nothing to write; exit 4: a line too long to be an fstab line (the
# option list is rebuilt word by word, and an absurd one must not take minutes); exit 5: the file was
# right or fixed and the ``add`` line appended (one line more). FS is spaces and tabs, as libmount's:
# awk's default also splits at other white space in some awks (BusyBox: \v and \f).
_AWK = r"""
function norm(p,  n, i, parts, out) {
  if (substr(p, 1, 1) != "/") return p
  n = split(p, parts, "/"); out = ""
  for (i = 1; i <= n; i++) if (parts[i] != "" && parts[i] != ".") out = out "/" parts[i]
  return out == "" ? "/" : out
}
BEGIN { FS = "[ \t]+" }
length($0) > 65536 { too_long = 1; exit }
{
  raw = $0; cr = ""
  if (sub(/\r$/, "")) cr = "\r"
  sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "")
  if ($0 !~ /^[ \t]*#/ && NF >= 2 && norm($2) == point) seen = 1
  if ($0 ~ /^[ \t]*#/ || NF < 3 || norm($2) != point) { print raw; next }
  if (NF < 4) $4 = "defaults"
  n = split($4, words, ","); kept = ""; holds = 0
  for (i = 1; i <= n; i++) {
    if (words[i] == option || words[i] == "user" || words[i] == "users") holds = 1
    else if ((words[i] == "owner" || words[i] == "group") && option != "noexec") holds = 1
    else if (words[i] == substr(option, 3)) holds = 0
    if (words[i] != option && words[i] != substr(option, 3)) kept = kept (kept == "" ? "" : ",") words[i]
  }
  if (holds) { print raw; next }
  $4 = (kept == "" ? "" : kept ",") option; changed = 1
  printf "%s%s\n", $0, cr
}
END { if (too_long) exit 4; if (!seen && add != "") { print add; exit 5 }; exit changed ? 0 : 3 }
""".strip()
assert "'" not in _AWK


def _one_line(program: str) -> str:
    """The awk program on one line (statements joined with "; ", none after a "{" or before a "}"), so
    the fix is a one-line command a report can wrap between its words (report/layout.wrap_command)."""
    lines = [line.strip() for line in program.splitlines() if line.strip()]
    joined = lines[0]
    for line in lines[1:]:
        joined += " " if joined.endswith("{") or line.startswith("}") else "; "
        joined += line
    return joined


_AWK_LINE = _one_line(_AWK)

_FAIL = 'echo "imagevet: $f {}; left as it is" >&2; exit 1'
_WORD = r"[a-z0-9=.]+"  # one mount option of a line the fix adds: no quote, blank or shell character
_ADDED_LINE = re.compile(rf"[a-z0-9]+ (?P<mount>\S+) [a-z0-9]+ (?P<options>{_WORD}(,{_WORD})*) 0 0")


def _checked_line(mount: str, option: str, add: str) -> str:
    """``add`` as the fix may append it: one plain fstab line for ``mount`` whose options make ``option``
    hold (mount(8)'s reading, values.has_option); DataError otherwise."""
    from imagevet.facts.mounts import has_option

    found = _ADDED_LINE.fullmatch(add)
    if found is None or found["mount"] != mount or not has_option(tuple(found["options"].split(",")), option):
        raise DataError(f"fstab fix: {add!r} is not a plain fstab line for {mount} with {option}")
    return add


def fstab_option_command(mount: str, option: str, add: str | None = None) -> str:
    """The shell command that makes ``option`` hold on every fstab line of ``mount`` (and appends ``add``
    where no line names it); DataError for a mount point, option or line the rows never ask for (the
    command is built from them)."""
    if not _MOUNT_POINT.fullmatch(mount) or option not in OPTIONS:
        raise DataError(f"fstab fix: {mount!r} {option!r} is not an absolute mount point and one of "
                        f"{', '.join(sorted(OPTIONS))}")  # fmt: skip
    added = f" -v add='{_checked_line(mount, option, add)}'" if add is not None else ""
    awk = f"awk -v OFS='\\t' -v point={mount} -v option={option}{added} '{_AWK_LINE}'"
    missing = "exit 0" if add is None else '( umask 022; : > "$f" ) || exit 1'
    steps = (
        "f=/etc/fstab",
        f'if [ -L "$f" ]; then {_FAIL.format("is a link")}; fi',
        f'if [ ! -e "$f" ]; then {missing}; fi',
        f'if [ ! -f "$f" ]; then {_FAIL.format("is not a regular file")}; fi',
        f'if ! tr -d \'\\000\' < "$f" | cmp -s - "$f"; then {_FAIL.format("holds a NUL byte")}; fi',
        'new=$(mktemp "$f.imagevet-XXXXXX") || exit 1',
        "trap 'rm -f \"$new\"' EXIT; trap 'exit 1' HUP INT TERM",
        f'{awk} "$f" > "$new"; rc=$?',
        'if [ "$rc" -eq 3 ]; then exit 0; fi',
        f'if [ "$rc" -eq 4 ]; then {_FAIL.format("has a line over 64 KiB")}; fi',
        'extra=0; if [ "$rc" -eq 5 ]; then extra=1; elif [ "$rc" -ne 0 ]; then exit 1; fi',
        'lines=$(wc -l < "$f"); if [ -n "$(tail -c 1 "$f")" ]; then lines=$((lines + 1)); fi',
        "lines=$((lines + extra))",
        f'if [ "$(wc -l < "$new")" -ne "$lines" ]; then {_FAIL.format("was not copied whole")}; fi',
        'chown "$(stat -c %u:%g "$f")" "$new" && chmod "$(stat -c %a "$f")" "$new" && mv -f "$new" "$f"',
    )
    return "( " + "; ".join(steps) + " )"
