"""The step after a sysctl fix's own file, named in the YAML as ``sysctl-override: [key, ...]``
(checks/metadata.py): the keys the file sets must win. systemd-sysctl applies the files of /etc, /run,
/usr/local/lib and /usr/lib sysctl.d in the order of their names, a later one winning, and procps'
``sysctl --system`` reads /etc/sysctl.conf last (Debian links it in as 99-sysctl.conf); so a file that
sorts after the fix's own, or sysctl.conf, would keep a weaker value while the script said "applied"
(the red-team of issue 20, rt25). Each active line of a key in another /etc file is commented out (the
file a link names is edited, the link kept; a file without one is not touched); one in a package's
directory that sorts after the fix's file, and that no /etc file of the same name masks, fails the fix by
name. Keys are matched with ``.`` or ``/`` between their parts, as sysctl.d(5) allows."""

from __future__ import annotations

import re
import shlex

from imagevet.errors import DataError

_KEY = re.compile(r"[a-z0-9_]+(\.[a-z0-9_*]+)+")
VENDOR_DIRS = ("/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")


def _pattern(key: str) -> str:
    """An ERE for an active line of ``key`` (an optional leading ``-``, ``.`` or ``/`` separators)."""
    parts = [re.escape(part).replace(r"\*", "[*]") for part in key.split(".")]
    return r"^[[:space:]]*-?" + "[./]".join(parts) + r"[[:space:]]*="


def override_command(keys: list[str], own: str) -> str:
    """The command that leaves ``own`` (the fix's /etc/sysctl.d file) the last word on ``keys``."""
    if not keys or not all(isinstance(k, str) and _KEY.fullmatch(k) for k in keys):
        raise DataError(f"a sysctl-override step names sysctl keys, not {keys!r}")
    if not own.startswith("/etc/sysctl.d/") or not own.endswith(".conf"):
        raise DataError(f"a sysctl-override step follows a file in /etc/sysctl.d, not {own!r}")
    name = own.rsplit("/", 1)[1]
    either = "|".join(_pattern(key) for key in keys)
    vendor = " ".join(f"{d}/*.conf" for d in VENDOR_DIRS)
    message = shlex.quote(f" sets {', '.join(keys)} after {own}, and its package owns it; change it there")
    return (
        f"imagevet_rc=0; imagevet_re='{either}'; "
        f'for imagevet_d in /etc/sysctl.d/*.conf /etc/sysctl.conf; do [ -f "$imagevet_d" ] || continue; '
        f'[ "$imagevet_d" != {own} ] || continue; grep -Eq "$imagevet_re" "$imagevet_d" || continue; '
        f'sed -i -E "s%($imagevet_re)%# \\1%" "$(readlink -f "$imagevet_d")" || imagevet_rc=1; done; '
        f'for imagevet_d in {vendor}; do [ -f "$imagevet_d" ] || continue; '
        f'imagevet_b=${{imagevet_d##*/}}; [ ! -e "/etc/sysctl.d/$imagevet_b" ] || continue; '
        f"LC_ALL=C awk -v a=\"$imagevet_b\" -v b={name} 'BEGIN {{ exit !(a > b) }}' || continue; "
        f'! grep -Eq "$imagevet_re" "$imagevet_d" || {{ echo "imagevet: $imagevet_d"{message} >&2; '
        'imagevet_rc=1; }; done; [ "$imagevet_rc" = 0 ]'
    )
