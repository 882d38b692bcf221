"""The fix that gives every ``umask`` a set of shell startup files runs the bits 027 asks for, named in the
YAML as ``umask-files: [PATH ...]`` (default-umask: the system-wide profiles; accounts-root-umask: root's
own startup files). Each plain ``umask MODE`` weaker than 027 gets the missing bits (002 and 022 become
027, 077 stays), in a copy renamed over the file with its mode and owner (a link is followed to the file
it names); a umask that is not an octal number fails the fix, to be set by hand. Pure: returns the
command text."""

from __future__ import annotations

import re

from imagevet.errors import DataError

_PATH = re.compile(r"/[A-Za-z0-9._/*-]+")  # absolute, no quoting needed (a glob's * is meant)

_HEAD = "imagevet_rc=0; for imagevet_f in "
_TAIL = (
    '; do [ -f "$imagevet_f" ] || continue; '
    '[ ! -L "$imagevet_f" ] || imagevet_f=$(readlink -f "$imagevet_f") || { imagevet_rc=1; continue; '
    '}; imagevet_t="$imagevet_f.imagevet-umask"; '
    '{ cp -p "$imagevet_f" "$imagevet_t" && awk \'{ out = ""; rest = $0; '
    "while (match(rest, /(^|[ \\t;&|(])umask[ \\t]+[0-7]+/)) { before = substr(rest, 1, RSTART - 1); "
    "seg = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH); "
    "d = match(seg, /[0-7]+$/); n = substr(seg, d); "
    'if (rest !~ /^[^ \\t;&|)#<>]/ && length(n) <= 4) { while (length(n) < 3) n = "0" n; '
    "g = substr(n, length(n) - 1, 1); "
    'seg = substr(seg, 1, d - 1) substr(n, 1, length(n) - 2) substr("23236767", g + 1, 1) "7" } out '
    '= out before seg } print out rest }\' "$imagevet_f" > "$imagevet_t" && { cmp -s "$imagevet_f" '
    '"$imagevet_t" || mv -f "$imagevet_t" "$imagevet_f"; }; } || imagevet_rc=1; rm -f "$imagevet_t"; '
    "! grep -vE '^[[:space:]]*#' \"$imagevet_f\" | grep -qE "
    "'(^|[[:space:];&|(])umask[[:space:]]+[^-[:space:]0-7;&|]' || { echo \"imagevet: $imagevet_f sets "
    'a umask that is not an octal number; make it 027 or stricter by hand" >&2; imagevet_rc=1; }; '
    'done; [ "$imagevet_rc" = 0 ]'
)


def umask_files_command(paths: list[str]) -> str:
    """The command for ``paths`` (image paths, globs allowed), in the order given."""
    if not paths or not all(isinstance(path, str) and _PATH.fullmatch(path) for path in paths):
        raise DataError(f"a umask-files step names absolute paths, not {paths!r}")
    return _HEAD + " ".join(paths) + _TAIL
