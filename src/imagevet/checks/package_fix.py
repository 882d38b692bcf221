"""The fix of a package-removal row (``packages-no-telnet-client`` and the others): one shell command that
removes those of the packages the row judges that are installed, named in the YAML as ``purge: apt`` or
``purge: dnf`` (checks/metadata.py) and built from the row's own ``keys``, so the names the fix removes
can never drift from the names the check fails on.

Why not ``apt-get purge -y NAME...`` as written by hand: apt-get refuses the whole command ("Unable to
locate package") when one name is neither installed nor in the image's package lists. A container image
ships without lists, and a row names the packages of several releases (``tftpd`` is not in Debian 12), so
the hand-written command failed exactly where it had work to do. The command asks the package database
which of the names are installed (dpkg: every state but ``not-installed`` and ``config-files``, as
inventory/dpkgdb.py counts them; rpm: ``rpm -q``) and removes only those; none installed is nothing to do.
A removal that fails (a dependency apt will not break, a read-only database) still fails the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from imagevet.checks.values import ValueRow
from imagevet.errors import DataError

# Package names as dpkg (policy 5.6.1) and rpm spell them; nothing a shell would read as more than a word.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*")

MANAGERS = ("apt", "dnf")


def removal_names(rows: Iterable[ValueRow]) -> tuple[str, ...]:
    """The packages a check fails on when installed: the keys of its ``packages`` rows with op none."""
    return tuple(k for row in rows if row.fact == "packages" and row.op == "none" for k in row.keys)


def purge_command(manager: str, names: tuple[str, ...]) -> str:
    """The command that removes, with ``manager``, those of ``names`` that are installed."""
    if manager not in MANAGERS:
        raise DataError(f"a purge step names {manager!r}; known: {', '.join(MANAGERS)}")
    if not names:
        raise DataError("a purge step needs a packages row with op none (the names it removes)")
    bad = [n for n in names if not _NAME.fullmatch(n)]
    if bad:
        raise DataError(f"a purge step cannot name {bad[0]!r}: not a package name")
    listed = " ".join(names)
    # The whole database is listed, with no names and no 2>/dev/null: a query that could not run (no
    # dpkg-query, a root without /dev) must fail the fix, never read as "none installed".
    wanted = 'index(names, " " $2 " ") && $1 != "not-installed" && $1 != "config-files" {print $3}'
    pick = f"awk -v names=' {listed} ' '{wanted}'"
    if manager == "apt":
        query = "dpkg-query -W -f='${db:Status-Status} ${Package} ${binary:Package}\\n'"
        remove = "DEBIAN_FRONTEND=noninteractive apt-get purge -y $imagevet_installed"
    else:
        query = "rpm -qa --qf 'installed %{NAME} %{NAME}\\n'"
        remove = "dnf remove -y $imagevet_installed"
    return (
        f"imagevet_listed=$({query}) && imagevet_installed=$(printf '%s\\n' \"$imagevet_listed\" | {pick})"
        f' && {{ [ -z "$imagevet_installed" ] || {remove}; }}'
    )
