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

# Sets "$imagevet_line" in "$imagevet_f": every active line of "$imagevet_key", else after the first
# "[$imagevet_section]" line, else at the end (with the header where a section is wanted and missing).
_SET_IN_MAIN = " ".join(
    [
        'imagevet_set() { imagevet_t="$imagevet_f.imagevet-set";',
        '[ -e "$imagevet_f" ] || { : > "$imagevet_f" && chmod 0644 "$imagevet_f"; } || return 1;',
        'cp -p "$imagevet_f" "$imagevet_t" || return 1;',
        'awk -v key="$imagevet_key" -v line="$imagevet_line" -v section="$imagevet_section" \'',
        'function active(s) { sub(/^[ \\t]+/, "", s);',
        "return index(s, key) == 1 && substr(s, length(key) + 1) ~ /^[ \\t]*(=|$)/ }",
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


def _comment_out(key: str, glob: str) -> str:
    """Comment out every active line of ``key`` in the files of ``glob``."""
    pattern = rf"^([[:space:]]*{key}[[:space:]]*(=|$))"
    return (
        f'for imagevet_d in {glob}; do [ -f "$imagevet_d" ] || continue; '
        f"sed -i -E 's/{pattern}/# \\1/' \"$imagevet_d\" || imagevet_rc=1; done"
    )


def _refuse(key: str, globs: tuple[str, ...], why: str) -> str:
    """Fail the fix, by file, where one of ``globs`` sets ``key`` actively."""
    pattern = rf"^[[:space:]]*{key}[[:space:]]*(=|$)"
    message = shlex.quote(f" sets {key} {why}; change it there")
    return (
        f'for imagevet_d in {" ".join(globs)}; do [ -f "$imagevet_d" ] || continue; '
        f"! grep -Eq '{pattern}' \"$imagevet_d\" || "
        f'{{ echo "imagevet: $imagevet_d"{message} >&2; imagevet_rc=1; }}; done'
    )


def _command(main: str, key: str, line: str, section: str, steps: list[str]) -> str:
    head = (
        f"imagevet_rc=0; imagevet_f={main}; imagevet_key={key}; imagevet_line={shlex.quote(line)}; "
        f"imagevet_section={section}; {_SET_IN_MAIN}; imagevet_set || imagevet_rc=1"
    )
    return "; ".join([head, *steps, '[ "$imagevet_rc" = 0 ]'])


def pwquality_command(key: str, value: str | None) -> str:
    """The command that makes libpwquality's ``key`` ``value`` (None: a flag such as enforce_for_root)."""
    _checked(key, value)
    line = key if value is None else f"{key} = {value}"
    arg = rf"pam_pwquality[.]so([[:space:]].*)?[[:space:]]{key}(=|[[:space:]]|$)"
    on_line = (
        f'for imagevet_d in {" ".join(PWQUALITY_STACKS)}; do [ -f "$imagevet_d" ] || continue; '
        f'! grep -Eq \'{arg}\' "$imagevet_d" || {{ echo "imagevet: $imagevet_d gives pam_pwquality {key}'
        ' on its line, which wins over pwquality.conf; change the profile that writes it" >&2;'
        " imagevet_rc=1; }; done"
    )
    steps = [_comment_out(key, "/etc/security/pwquality.conf.d/*.conf")]
    return _command(PWQUALITY, key, line, '""', [*steps, on_line])


def journald_command(key: str, value: str) -> str:
    """The command that makes journald's ``key`` ``value`` (journald.conf(5): [Journal] Key=Value)."""
    _checked(key, value)
    steps = [
        _comment_out(key, "/etc/systemd/journald.conf.d/*.conf"),
        _refuse(key, JOURNALD_VENDOR, "after journald.conf, and its package owns it"),
    ]
    return _command(JOURNALD, key, f"{key}={value}", "Journal", steps)
