"""Effective sysctl settings, following systemd-sysctl's rules (sysctl.d(5)).

* Directories, highest priority first: /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
  /usr/lib/sysctl.d, /lib/sysctl.d. A file name found in an earlier directory masks the same name in
  later ones (a link to /dev/null masks it entirely).
* The surviving files are applied in lexical order of their names; a later assignment wins.
* /etc/sysctl.conf is read last, as ``sysctl --system`` does, unless it was already applied through a
  ``99-sysctl.conf`` link (Debian's procps ships /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf).
* Keys use ``.`` or ``/`` as separators: when the first separator is ``/`` the two are swapped.
* A leading ``-`` only silences errors; a ``-key`` line with no ``=`` excludes that key from globs.
* Glob keys (``net.ipv4.conf.*.rp_filter``) apply to matching keys that no explicit line sets.
* Keys never set keep the kernel's default, which we know for the keys our checks read.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace

from imagevet.model import Unknown
from imagevet.target.base import Target

SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
SYSCTL_CONF = "/etc/sysctl.conf"

# Linux defaults for the keys the checks read (Documentation/admin-guide/sysctl and ip-sysctl.rst).
KERNEL_DEFAULTS = {
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "vm.swappiness": "60",
    "kernel.randomize_va_space": "2",
    "net.ipv4.ip_forward": "0",
    "net.ipv4.tcp_syncookies": "1",
    "fs.suid_dumpable": "0",
    # ip-sysctl.rst: redirects are accepted and sent by hosts by default; source routing is off for hosts.
    "net.ipv4.conf.all.accept_redirects": "1",
    "net.ipv4.conf.default.accept_redirects": "1",
    "net.ipv4.conf.all.secure_redirects": "1",
    "net.ipv4.conf.all.send_redirects": "1",
    "net.ipv4.conf.default.send_redirects": "1",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.conf.default.accept_source_route": "0",
    "net.ipv4.conf.all.log_martians": "0",
    "net.ipv4.conf.default.log_martians": "0",
    "net.ipv4.conf.default.secure_redirects": "1",
    # ip-sysctl.rst: "icmp_echo_ignore_broadcasts ... Default: 1", "icmp_ignore_bogus_error_responses ...
    # Default: 1" (https://docs.kernel.org/networking/ip-sysctl.html, checked 2026-12-04).
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "net.ipv4.icmp_ignore_bogus_error_responses": "1",
    # IPv6 (same page, conf/interface/*): forwarding "Default: FALSE"; accept_ra and accept_redirects
    # "Functional default: enabled if local forwarding is disabled" (the host case); accept_source_route 0.
    "net.ipv6.conf.all.forwarding": "0",
    "net.ipv6.conf.all.accept_ra": "1",
    "net.ipv6.conf.default.accept_ra": "1",
    "net.ipv6.conf.all.accept_redirects": "1",
    "net.ipv6.conf.default.accept_redirects": "1",
    "net.ipv6.conf.all.accept_source_route": "0",
    "net.ipv6.conf.default.accept_source_route": "0",
    # Yama, where the kernel is built with it: "the defaults when CONFIG_SECURITY_YAMA is enabled in a kernel
    # build (currently 1 for ptrace_scope)" (elfutils config/10-default-yama-scope.conf, read 2026-12-07 at
    # https://chromium.googlesource.com/external/elfutils/+/eb956e080ff5/config/10-default-yama-scope.conf).
    "kernel.yama.ptrace_scope": "1",
}


@dataclass(frozen=True)
class SysctlValue:
    """A key's configured value and where it was set; ``path is None`` means the kernel default."""

    key: str
    value: str
    path: str | None = None
    line: int | None = None
    running: str | None = None  # the live kernel's value, on a live host

    def where(self) -> str:
        return "kernel default" if self.path is None else f"{self.path}:{self.line}"


@dataclass
class SysctlConfig:
    """Explicit assignments (last wins), glob assignments, and the files they came from."""

    explicit: dict[str, SysctlValue] = field(default_factory=dict)
    globs: list[SysctlValue] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    running: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> SysctlValue | Unknown:
        """The value the image boots with: explicit, else the last matching glob, else the kernel default."""
        key = normalize_key(key)
        running = self.running.get(key)
        found = self.explicit.get(key)
        if found is None and key not in self.excluded:
            for glob_value in reversed(self.globs):
                if fnmatch.fnmatchcase(key, glob_value.key):
                    found = glob_value
                    break
        if found is None:
            default = KERNEL_DEFAULTS.get(key)
            if default is None:
                return Unknown(f"{key} is not set in the image and its kernel default is not known")
            found = SysctlValue(key, default)
        return found if running is None else replace(found, key=key, running=running)


def normalize_key(key: str) -> str:
    """systemd's rule: if the first separator is ``/``, swap ``/`` and ``.`` throughout."""
    key = key.strip(WHITESPACE)
    for ch in key:
        if ch == ".":
            return key
        if ch == "/":
            return key.translate(str.maketrans("/.", "./"))
    return key


_LINES = re.compile(r"\r\n|\r|\n")
WHITESPACE = " \t\n\r"  # systemd's WHITESPACE; Python's strip() would also eat \xa0, \x85, \u2028 ...


def apply_file(config: SysctlConfig, path: str, text: str) -> None:
    """Apply one sysctl.d file's assignments in order.

    Lines end where systemd's read_line ends them (``\n``, ``\r\n``, ``\r``), not at the other characters
    Python's splitlines breaks at (\x0b, \x0c, \x85, \u2028 ...): those would make assignments systemd
    never sees.
    """
    for number, raw in enumerate(_LINES.split(text), start=1):
        line = raw.strip(WHITESPACE)
        if not line or line[0] in "#;":
            continue
        ignore_failure = line.startswith("-")
        if ignore_failure:
            line = line[1:].lstrip(WHITESPACE)
        if "=" not in line:
            if ignore_failure:
                config.excluded.add(normalize_key(line))
            else:
                config.problems.append(f"{path}:{number}: line is not an assignment")
            continue
        key, _, value = line.partition("=")
        key = normalize_key(key)
        entry = SysctlValue(key, value.strip(WHITESPACE), path, number)
        if any(ch in key for ch in "*?["):
            config.globs.append(entry)
        else:
            config.explicit[key] = entry


def effective_files(target: Target) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, image path) pairs in application order, and problems met while listing."""
    chosen: dict[str, str] = {}
    problems: list[str] = []
    for directory in SYSCTL_DIRS:
        names = target.list_dir(directory)
        if isinstance(names, Unknown):
            continue
        for name in names:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = f"{directory}/{name}"
    return sorted(chosen.items()), problems


def gather_sysctl(target: Target) -> SysctlConfig:
    config = SysctlConfig()
    files, config.problems = effective_files(target)
    applied: set[str] = set()
    for _name, path in files:
        if target.readlink(path) == "/dev/null":
            continue  # masked, as systemd documents
        canonical = target.canonical(path)
        if isinstance(canonical, Unknown):
            config.problems.append(canonical.reason)
            continue
        text = target.read_text(path)
        if isinstance(text, Unknown):
            config.problems.append(text.reason)
            continue
        applied.add(canonical)
        config.files.append(path)
        apply_file(config, path, text)
    if SYSCTL_CONF not in applied and target.exists(SYSCTL_CONF):
        text = target.read_text(SYSCTL_CONF)
        if isinstance(text, Unknown):
            config.problems.append(text.reason)
        else:
            config.files.append(SYSCTL_CONF)
            apply_file(config, SYSCTL_CONF, text)
    return config


def read_running(target: Target, keys: list[str]) -> dict[str, str]:
    """The live kernel's values of ``keys`` from /proc/sys (only meaningful on a live host)."""
    values: dict[str, str] = {}
    for key in keys:
        text = target.read_text("/proc/sys/" + key.replace(".", "/"))
        if not isinstance(text, Unknown):
            values[key] = text.strip()
    return values
