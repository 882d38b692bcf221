"""The fixes that set one key of a configuration read from a main file and a drop-in directory, named in
the YAML as ``pwquality: {difok: 2}`` (libpwquality) or ``journald: {Compress: "yes"}`` (journald), and
written once here for every check of such a key.

A value in a file of its own (the hardening's drop-in) can lose to another file read later, and the script
would say "applied" while the check fails (the red-team of issue 20 found that for pwquality's minlen).
So the value goes into the main file, and every other place that sets the key is dealt with:

- libpwquality reads pwquality.conf.d/*.conf and then pwquality.conf, the last value winning
  (pwquality.conf(5)); journald reads journald.conf and then its drop-ins, which win (journald.conf(5)).
  Either way, the key is set in the main file and commented out in each drop-in under /etc;
- a drop-in the fix must not edit (journald's under /usr/lib, /usr/local/lib and /run, which the
  packages and the running system own) or a pam_pwquality line that gives the key as an argument (which
  wins over the files) fails the fix by name: those are for a person to change;
- in the main file every active line of the key gets the value; where there is none it goes after the
  section header (journald's [Journal]) or at the end. Comments are left as they are.

Files are rewritten as a copy renamed over the original, keeping its mode; a missing main file is made.
"""

from __future__ import annotations

import re
import shlex

from imagevet.errors import DataError

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VALUE = re.compile(r"[A-Za-z0-9.]*")
PWQUALITY = "/etc/security/pwquality.conf"
PWQUALITY_STACKS = ("/etc/pam.d/common-password", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth")
JOURNALD = "/etc/systemd/journald.conf"
JOURNALD_VENDOR = tuple(
    f"{root}/systemd/journald.conf.d/*.conf" for root in ("/run", "/usr/local/lib", "/usr/lib")
)

# Sets "$imagevet_line" in "$imagevet_f": every active line of "$imagevet_key" (its name, then a blank,
# an = or the end; in any case where $imagevet_fold is 1), else after the first "[$imagevet_section]"
# line, else at the end (with the header where a section is wanted and missing). A link is followed, so
# the file it names is rewritten and the link stays.
_SET_IN_MAIN = " ".join(
    [
        'imagevet_set() { [ ! -L "$imagevet_f" ] || imagevet_f=$(readlink -f "$imagevet_f") || return 1;',
        'imagevet_t="$imagevet_f.imagevet-set";',
        '[ -e "$imagevet_f" ] || { : > "$imagevet_f" && chmod 0644 "$imagevet_f"; } || return 1;',
        'cp -p "$imagevet_f" "$imagevet_t" || return 1;',
        'awk -v key="$imagevet_key" -v line="$imagevet_line" -v section="$imagevet_section"',
        '-v fold="$imagevet_fold" \'function active(s) { sub(/^[ \\t]+/, "", s);',
        "if (fold) { s = tolower(s); k = tolower(key) } else k = key;",
        "return index(s, k) == 1 && substr(s, length(k) + 1) ~ /^([ \\t=]|$)/ }",
        "{ rows[NR] = $0; if (active($0)) found = 1;",
        'if (section != "" && $0 == "[" section "]") header = 1 }',
        "END { for (i = 1; i <= NR; i++) { if (active(rows[i])) { print line; continue } print rows[i];",
        'if (!found && !done && section != "" && rows[i] == "[" section "]") { print line; done = 1 } }',
        'if (!found && !done) { if (section != "" && !header) print "[" section "]"; print line } }\'',
        '"$imagevet_f" > "$imagevet_t" || { rm -f "$imagevet_t"; return 1; };',
        'mv -f "$imagevet_t" "$imagevet_f"; }',
    ]
)


def _checked(key: str, value: str | None) -> None:
    if not _KEY.fullmatch(key) or (value is not None and not _VALUE.fullmatch(value)):
        raise DataError(f"a configuration step cannot set {key!r} to {value!r}")


def _active(key: str) -> str:
    """An ERE for a line that sets ``key`` (its name, then a blank, an = or the end)."""
    return rf"^[[:space:]]*{key}([[:space:]=]|$)"


def _comment_out(key: str, glob: str, fold: bool) -> str:
    """Comment out every active line of ``key`` in the files of ``glob``; a file without one is not
    touched (so a second run changes nothing), and a link's target is edited, the link kept."""
    flags, case = ("-Eiq", "I") if fold else ("-Eq", "")
    return (
        f'for imagevet_d in {glob}; do [ -f "$imagevet_d" ] || continue; '
        f"grep {flags} '{_active(key)}' \"$imagevet_d\" || continue; "
        f'sed -i -E \'s/^([[:space:]]*{key}([[:space:]=]|$))/# \\1/{case}\' "$(readlink -f "$imagevet_d")"'
        " || imagevet_rc=1; done"
    )


def _refuse(key: str, globs: tuple[str, ...], why: str) -> str:
    """Fail the fix, by file, where one of ``globs`` sets ``key`` actively."""
    message = shlex.quote(f" sets {key} {why}; change it there")
    return (
        f'for imagevet_d in {" ".join(globs)}; do [ -f "$imagevet_d" ] || continue; '
        f"! grep -Eq '{_active(key)}' \"$imagevet_d\" || "
        f'{{ echo "imagevet: $imagevet_d"{message} >&2; imagevet_rc=1; }}; done'
    )


def _command(
    main: str, key: str, line: str, section: str, fold: bool, before: list[str], after: list[str]
) -> str:
    """``before`` runs first and, where it fails, leaves the files as they are (a fix that cannot win
    must not rewrite a stricter value on its way to failing); then the main file and ``after``."""
    head = (
        f"imagevet_rc=0; imagevet_f={main}; imagevet_key={key}; imagevet_line={shlex.quote(line)}; "
        f"imagevet_section={section}; imagevet_fold={int(fold)}; {_SET_IN_MAIN}"
    )
    apply = '[ "$imagevet_rc" != 0 ] || { imagevet_set || imagevet_rc=1; ' + "; ".join(after) + "; }"
    return "; ".join([head, *before, apply, '[ "$imagevet_rc" = 0 ]'])


def pwquality_command(key: str, value: str | None) -> str:
    """The command that makes libpwquality's ``key`` ``value`` (None: a flag such as enforce_for_root).
    libpwquality matches names in any case, so the edits do too."""
    _checked(key, value)
    line = key if value is None else f"{key} = {value}"
    arg = rf"pam_pwquality[.]so([[:space:]].*)?[[:space:]]{key}(=|[[:space:]]|$)"
    on_line = (
        f'for imagevet_d in {" ".join(PWQUALITY_STACKS)}; do [ -f "$imagevet_d" ] || continue; '
        f'! grep -Eiq \'{arg}\' "$imagevet_d" || {{ echo "imagevet: $imagevet_d gives pam_pwquality {key}'
        ' on its line, which wins over pwquality.conf; change the profile that writes it" >&2;'
        " imagevet_rc=1; }; done"
    )
    after = [_comment_out(key, "/etc/security/pwquality.conf.d/*.conf", fold=True)]
    return _command(PWQUALITY, key, line, '""', True, [on_line], after)


# Where journald looks for its main file when /etc has none (journald.conf(5)); the first one found is
# copied to /etc before the edit, so that its other settings are kept (an /etc file replaces it whole).
JOURNALD_MAINS = (
    "/run/systemd/journald.conf",
    "/usr/local/lib/systemd/journald.conf",
    "/usr/lib/systemd/journald.conf",
)


def journald_command(key: str, value: str) -> str:
    """The command that makes journald's ``key`` ``value`` (journald.conf(5): [Journal] Key=Value)."""
    _checked(key, value)
    vendor_main = (
        f"[ -e {JOURNALD} ] || for imagevet_v in {' '.join(JOURNALD_MAINS)}; do "
        f'[ -f "$imagevet_v" ] || continue; cp -p "$imagevet_v" {JOURNALD} || imagevet_rc=1; break; done'
    )
    before = [_refuse(key, JOURNALD_VENDOR, "after journald.conf, and its package owns it"), vendor_main]
    after = [_comment_out(key, "/etc/systemd/journald.conf.d/*.conf", fold=False)]
    return _command(JOURNALD, key, f"{key}={value}", "Journal", False, before, after)
