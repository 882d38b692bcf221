"""Hardening checks of the CIS Level 1 kind: file modes, sshd parameters, sysctl, unwanted packages,
time sync, audit, sudo. Each is a small predicate over facts; metadata and references are in
metadata.yaml."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.base import CheckOptions
from imagevet.checks.lines import config_lines, systemd_setting
from imagevet.checks.ssh import setting_evidence, sshd_or_outcome
from imagevet.checks.system import sysctl_outcome
from imagevet.facts import Facts
from imagevet.facts.pam import (
    ModuleLine,
    Setting,
    effective,
    faillock_settings,
    pwquality_settings,
    stack_modules,
)
from imagevet.model import Evidence, Outcome, Status, Unknown

# ---- file permissions ------------------------------------------------------------------------------


def _file_mode(facts: Facts, path: str, max_mode: int, groups: tuple[str, ...] = ("root",)) -> Outcome:
    node = facts.target.stat(path)
    if isinstance(node, Unknown):
        return Outcome.of(Status.ERROR, node.reason)
    if node.mode < 0:
        return Outcome.of(Status.ERROR, f"{path}: this target does not record permissions")
    problems = []
    if node.mode & ~max_mode:
        problems.append(f"mode {node.mode:04o} allows more than {max_mode:04o}")
    if node.uid != 0:
        problems.append(f"owner uid {node.uid} is not root")
    group_ids = {_gid(facts, name) for name in groups} - {None}
    if node.gid not in group_ids:
        problems.append(f"group gid {node.gid} is not {' or '.join(groups)}")
    detail = f"{path}: mode {node.mode:04o}, uid {node.uid}, gid {node.gid}"
    if problems:
        return Outcome(Status.FAIL, (Evidence(f"{detail}: {'; '.join(problems)}", path),))
    return Outcome(Status.PASS, (Evidence(detail, path),))


def _gid(facts: Facts, name: str) -> int | None:
    if name == "root":
        return 0
    text = facts.target.read_text("/etc/group")
    if isinstance(text, Unknown):
        return None
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def perms_passwd(facts: Facts, options: CheckOptions) -> Outcome:
    return _file_mode(facts, "/etc/passwd", 0o644)


def perms_group(facts: Facts, options: CheckOptions) -> Outcome:
    return _file_mode(facts, "/etc/group", 0o644)


def perms_shadow(facts: Facts, options: CheckOptions) -> Outcome:
    return _file_mode(facts, "/etc/shadow", 0o640, ("root", "shadow"))


def perms_gshadow(facts: Facts, options: CheckOptions) -> Outcome:
    if not facts.target.exists("/etc/gshadow"):
        return Outcome.of(Status.SKIP, "/etc/gshadow does not exist in the image")
    return _file_mode(facts, "/etc/gshadow", 0o640, ("root", "shadow"))


def perms_sshd_config(facts: Facts, options: CheckOptions) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    return _file_mode(facts, "/etc/ssh/sshd_config", 0o600)


def ssh_host_keys(facts: Facts, options: CheckOptions) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    keys = [p for p in facts.target.glob("/etc/ssh/ssh_host_*_key")]
    if not keys:
        return Outcome.of(Status.PASS, "no host private keys in the image (generated on first boot)")
    outcomes = [_file_mode(facts, key, 0o640, ("root", "ssh_keys")) for key in keys]
    evidence = tuple(e for outcome in outcomes for e in outcome.evidence)
    if any(o.status is Status.ERROR for o in outcomes):
        return Outcome(Status.ERROR, evidence)
    failed = any(o.status is Status.FAIL for o in outcomes)
    return Outcome(Status.FAIL if failed else Status.PASS, evidence)


# ---- sshd parameters -------------------------------------------------------------------------------


def _sshd_value(facts: Facts, keyword: str, ok: Callable[[str], bool]) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    setting = config.get(keyword)
    evidence = [setting_evidence(setting)]
    passed = ok(setting.value)
    for block, override in config.match_overrides(keyword):
        if not ok(override.value):
            passed = False
            evidence.append(
                Evidence(f"Match {block.criteria}: {keyword} {override.value}", override.path, override.line)
            )
    return Outcome(Status.PASS if passed else Status.FAIL, tuple(evidence))


def _int(value: str) -> int:
    return int(value) if value.lstrip("-").isdigit() else -1


def ssh_max_auth_tries(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "maxauthtries", lambda v: 0 < _int(v) <= 4)


def ssh_login_grace_time(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "logingracetime", lambda v: 0 < _int(v) <= 60)


def ssh_client_alive(facts: Facts, options: CheckOptions) -> Outcome:
    interval = _sshd_value(facts, "clientaliveinterval", lambda v: 0 < _int(v) <= 900)
    if interval.status in (Status.SKIP, Status.ERROR):
        return interval
    count = _sshd_value(facts, "clientalivecountmax", lambda v: 0 < _int(v) <= 3)
    status = Status.PASS if interval.status is Status.PASS and count.status is Status.PASS else Status.FAIL
    return Outcome(status, interval.evidence + count.evidence)


def ssh_x11_forwarding(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "x11forwarding", lambda v: v == "no")


def ssh_ignore_rhosts(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "ignorerhosts", lambda v: v == "yes")


def ssh_hostbased(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "hostbasedauthentication", lambda v: v == "no")


def ssh_user_environment(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "permituserenvironment", lambda v: v == "no")


def ssh_log_level(facts: Facts, options: CheckOptions) -> Outcome:
    return _sshd_value(facts, "loglevel", lambda v: v in ("INFO", "VERBOSE"))


# ---- sysctl ----------------------------------------------------------------------------------------


def _sysctl_all(facts: Facts, keys: tuple[str, ...], wanted: int) -> Outcome:
    outcomes = [sysctl_outcome(facts, key, lambda v: v == wanted, str(wanted)) for key in keys]
    evidence = tuple(e for outcome in outcomes for e in outcome.evidence)
    for status in (Status.ERROR, Status.FAIL):
        if any(o.status is status for o in outcomes):
            return Outcome(status, evidence)
    return Outcome(Status.PASS, evidence)


def sysctl_aslr(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("kernel.randomize_va_space",), 2)


def sysctl_suid_dumpable(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("fs.suid_dumpable",), 0)


def sysctl_accept_redirects(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(
        facts, ("net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.default.accept_redirects"), 0
    )


def sysctl_send_redirects(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("net.ipv4.conf.all.send_redirects", "net.ipv4.conf.default.send_redirects"), 0)


def sysctl_source_route(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("net.ipv4.conf.all.accept_source_route",), 0)


def sysctl_log_martians(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("net.ipv4.conf.all.log_martians",), 1)


def sysctl_syncookies(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("net.ipv4.tcp_syncookies",), 1)


def sysctl_ip_forward(facts: Facts, options: CheckOptions) -> Outcome:
    return _sysctl_all(facts, ("net.ipv4.ip_forward",), 0)


# ---- packages and services -------------------------------------------------------------------------

INSECURE_PACKAGES = (
    "telnet",
    "telnetd",
    "inetutils-telnet",
    "inetutils-telnetd",
    "telnet-server",
    "rsh-client",
    "rsh-server",
    "rsh-redone-client",
    "rsh-redone-server",
    "rsh",
    "xinetd",
    "nis",
    "ypbind",
    "ypserv",
    "tftp",
    "tftpd",
    "tftpd-hpa",
    "tftp-server",
    "talk",
    "talkd",
    "inetutils-talk",
    "inetutils-talkd",
)
TIME_SYNC_PACKAGES = ("chrony", "systemd-timesyncd", "ntp", "ntpsec", "openntpd")
AUDIT_PACKAGES = ("auditd", "audit")


def _packages(facts: Facts) -> dict[str, object] | Outcome:
    packages = facts.packages
    if packages is None:
        return Outcome.of(Status.ERROR, "no package database in the image")
    if isinstance(packages, Unknown):
        return Outcome.of(Status.ERROR, packages.reason)
    return dict(packages)


def insecure_packages_absent(facts: Facts, options: CheckOptions) -> Outcome:
    packages = _packages(facts)
    if isinstance(packages, Outcome):
        return packages
    found = sorted(name for name in INSECURE_PACKAGES if name in packages)
    if found:
        return Outcome.of(Status.FAIL, f"installed: {', '.join(found)}")
    return Outcome.of(Status.PASS, "none of telnet, rsh, xinetd, NIS, TFTP or talk is installed")


def _installed_any(facts: Facts, names: tuple[str, ...], what: str) -> Outcome:
    packages = _packages(facts)
    if isinstance(packages, Outcome):
        return packages
    found = [name for name in names if name in packages]
    if found:
        return Outcome.of(Status.PASS, f"{what}: {', '.join(found)} installed")
    return Outcome.of(Status.FAIL, f"no {what} installed (one of {', '.join(names)})")


def time_sync_installed(facts: Facts, options: CheckOptions) -> Outcome:
    return _installed_any(facts, TIME_SYNC_PACKAGES, "time synchronisation")


def auditd_installed(facts: Facts, options: CheckOptions) -> Outcome:
    return _installed_any(facts, AUDIT_PACKAGES, "audit daemon")


def _sudoers_defaults(facts: Facts) -> list[tuple[str, str, int]] | Outcome:
    """``Defaults`` lines of /etc/sudoers and /etc/sudoers.d/* (as (text, path, line))."""
    if not facts.target.exists("/etc/sudoers"):
        return Outcome.of(Status.SKIP, "sudo is not installed (no /etc/sudoers)")
    paths = ["/etc/sudoers", *facts.target.glob("/etc/sudoers.d/*")]
    defaults = []
    for path in paths:
        text = facts.target.read_text(path)
        if isinstance(text, Unknown):
            if path == "/etc/sudoers":
                return Outcome.of(Status.ERROR, text.reason)
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("Defaults"):
                defaults.append((stripped, path, number))
    return defaults


def sudo_use_pty(facts: Facts, options: CheckOptions) -> Outcome:
    defaults = _sudoers_defaults(facts)
    if isinstance(defaults, Outcome):
        return defaults
    hits = [(t, p, n) for t, p, n in defaults if "use_pty" in t and "!use_pty" not in t]
    if hits:
        return Outcome(Status.PASS, tuple(Evidence(t, p, n) for t, p, n in hits))
    return Outcome.of(Status.FAIL, "no 'Defaults use_pty' in /etc/sudoers or /etc/sudoers.d")


def sudo_logfile(facts: Facts, options: CheckOptions) -> Outcome:
    defaults = _sudoers_defaults(facts)
    if isinstance(defaults, Outcome):
        return defaults
    hits = [(t, p, n) for t, p, n in defaults if "logfile=" in t]
    if hits:
        return Outcome(Status.PASS, tuple(Evidence(t, p, n) for t, p, n in hits))
    return Outcome.of(Status.FAIL, "no 'Defaults logfile=' in /etc/sudoers or /etc/sudoers.d")


def tmp_separate(facts: Facts, options: CheckOptions) -> Outcome:
    if facts.target.info.image is not None:
        return Outcome.of(Status.SKIP, "a container image has no mount table of its own")
    fstab = facts.target.read_text("/etc/fstab")
    if not isinstance(fstab, Unknown):
        for number, line in enumerate(fstab.splitlines(), start=1):
            fields = line.split()
            if len(fields) >= 2 and not line.lstrip().startswith("#") and fields[1] == "/tmp":
                return Outcome.of(
                    Status.PASS,
                    Evidence(
                        f"/tmp is mounted as {fields[2] if len(fields) > 2 else '?'}", "/etc/fstab", number
                    ),
                )
    for directory in (
        "/etc/systemd/system/local-fs.target.wants",
        "/usr/lib/systemd/system/local-fs.target.wants",
    ):
        if facts.target.exists(f"{directory}/tmp.mount"):
            return Outcome.of(Status.PASS, Evidence("tmp.mount is enabled", f"{directory}/tmp.mount"))
    return Outcome.of(
        Status.FAIL, "/tmp is not a separate mount (no /etc/fstab entry, tmp.mount not enabled)"
    )


# ---- SSH algorithms --------------------------------------------------------------------------------

WEAK_CIPHERS = (
    "3des-cbc",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "blowfish-cbc",
    "cast128-cbc",
    "arcfour*",
    "rijndael-cbc@lysator.liu.se",
)
WEAK_MACS = ("hmac-md5*", "hmac-sha1*", "umac-64*", "hmac-ripemd160*")
WEAK_KEX = ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1")


def _weak(value: str, patterns: tuple[str, ...]) -> list[str]:
    import fnmatch

    return [a for a in value.split(",") if any(fnmatch.fnmatchcase(a, p) for p in patterns)]


def _algorithms(facts: Facts, keyword: str, weak: tuple[str, ...]) -> Outcome:
    outcome = _sshd_value(facts, keyword, lambda v: not _weak(v, weak))
    if outcome.status is Status.FAIL:
        config = sshd_or_outcome(facts)
        assert not isinstance(config, Outcome)
        found = _weak(config.get(keyword).value, weak)
        if found:
            return Outcome(Status.FAIL, (*outcome.evidence, Evidence(f"weak: {', '.join(found)}")))
    return outcome


def ssh_ciphers(facts: Facts, options: CheckOptions) -> Outcome:
    return _algorithms(facts, "ciphers", WEAK_CIPHERS)


def ssh_macs(facts: Facts, options: CheckOptions) -> Outcome:
    return _algorithms(facts, "macs", WEAK_MACS)


def ssh_kex(facts: Facts, options: CheckOptions) -> Outcome:
    return _algorithms(facts, "kexalgorithms", WEAK_KEX)


# ---- login.defs, umask, core dumps, kernel modules, logging ----------------------------------------


def _login_defs(facts: Facts) -> dict[str, tuple[str, int]] | Outcome:
    text = facts.target.read_text("/etc/login.defs")
    if isinstance(text, Unknown):
        return Outcome.of(Status.ERROR, text.reason)
    values: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#"):
            values[words[0]] = (words[1], number)
    return values


def _login_def(facts: Facts, key: str, ok: Callable[[int], bool], wanted: str) -> Outcome:
    values = _login_defs(facts)
    if isinstance(values, Outcome):
        return values
    if key not in values:
        return Outcome.of(Status.FAIL, f"{key} is not set in /etc/login.defs (wanted {wanted})")
    value, line = values[key]
    number = (
        int(value, 8)
        if key == "UMASK" and value.isdigit()
        else (int(value) if value.lstrip("-").isdigit() else None)
    )
    if number is None:
        return Outcome.of(Status.ERROR, Evidence(f"{key} {value} is not a number", "/etc/login.defs", line))
    status = Status.PASS if ok(number) else Status.FAIL
    return Outcome.of(status, Evidence(f"{key} {value}; wanted {wanted}", "/etc/login.defs", line))


def password_max_days(facts: Facts, options: CheckOptions) -> Outcome:
    return _login_def(facts, "PASS_MAX_DAYS", lambda v: 0 < v <= 365, "<= 365")


def password_min_days(facts: Facts, options: CheckOptions) -> Outcome:
    return _login_def(facts, "PASS_MIN_DAYS", lambda v: v >= 1, ">= 1")


def password_warn_age(facts: Facts, options: CheckOptions) -> Outcome:
    return _login_def(facts, "PASS_WARN_AGE", lambda v: v >= 7, ">= 7")


def default_umask(facts: Facts, options: CheckOptions) -> Outcome:
    return _login_def(facts, "UMASK", lambda v: v & 0o027 == 0o027, "027 or stricter")


def core_dumps_restricted(facts: Facts, options: CheckOptions) -> Outcome:
    """A hard core limit of 0 in limits.conf(.d), or systemd-coredump told not to store dumps."""
    limits = ["/etc/security/limits.conf", *facts.target.glob("/etc/security/limits.d/*.conf")]
    for line, path, number in config_lines(facts, limits):
        if line.split()[:4] == ["*", "hard", "core", "0"]:
            return Outcome.of(Status.PASS, Evidence("* hard core 0", path, number))
    found = systemd_setting(facts, "/etc/systemd/coredump.conf", "Storage", "none")
    if found:
        return Outcome.of(Status.PASS, Evidence("Storage=none", *found))
    return Outcome.of(
        Status.FAIL, "no '* hard core 0' in limits.conf and systemd-coredump is not set to Storage=none"
    )


UNUSED_FILESYSTEMS = ("cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf")


def filesystem_modules_disabled(facts: Facts, options: CheckOptions) -> Outcome:
    disabled: dict[str, Evidence] = {}
    for line, path, number in config_lines(facts, facts.target.glob("/etc/modprobe.d/*.conf")):
        words = line.split()
        if (
            len(words) >= 3
            and words[0] == "install"
            and words[2] in ("/bin/false", "/bin/true", "/usr/bin/false")
        ):
            disabled[words[1]] = Evidence(line.strip(), path, number)
    missing = [name for name in UNUSED_FILESYSTEMS if name not in disabled]
    if missing:
        return Outcome.of(Status.FAIL, f"not disabled in /etc/modprobe.d: {', '.join(missing)}")
    return Outcome(Status.PASS, tuple(disabled[name] for name in UNUSED_FILESYSTEMS))


def logging_configured(facts: Facts, options: CheckOptions) -> Outcome:
    packages = _packages(facts)
    if isinstance(packages, Outcome):
        return packages
    if "rsyslog" in packages or "syslog-ng" in packages or "syslog-ng-core" in packages:
        return Outcome.of(Status.PASS, "a syslog daemon is installed")
    found = systemd_setting(facts, "/etc/systemd/journald.conf", "Storage", "persistent")
    if found:
        return Outcome.of(Status.PASS, Evidence("journald Storage=persistent", *found))
    if facts.target.is_dir("/var/log/journal"):
        return Outcome.of(
            Status.PASS,
            Evidence("/var/log/journal exists: journald keeps logs across reboots", "/var/log/journal"),
        )
    return Outcome.of(Status.FAIL, "no syslog daemon and journald does not keep logs across reboots")


# ---- PAM password quality and lockout ------------------------------------------------------------

MIN_PASSWORD_LENGTH = 14  # CIS: "Ensure password length is configured" (minlen >= 14)
MAX_FAILED_ATTEMPTS = 5  # CIS: deny 1..5
MIN_UNLOCK_SECONDS = 900  # CIS: unlock_time 0 (never) or >= 900


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _setting_evidence(label: str, setting: Setting) -> Evidence:
    if setting.path == "default":
        return Evidence(f"{label} = {setting.value} (library default)")
    return Evidence(f"{label} = {setting.value}", setting.path, setting.line)


def _stack_lines(facts: Facts, kind: str, module: str) -> list[ModuleLine] | Outcome:
    """The lines of the image's ``kind`` stack that call ``module``; skip without PAM, fail without it."""
    present, lines = stack_modules(facts.target, kind, module)
    if not present:
        return Outcome.of(Status.SKIP, f"no PAM {kind} stack (common-{kind} or system-auth) in the image")
    if not lines:
        return Outcome.of(
            Status.FAIL, f"{module.removesuffix('.so')} is not in the {kind} stack ({', '.join(present)})"
        )
    return lines


def password_quality(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_pwquality in the password stack, with an effective minlen of at least 14 on every line."""
    lines = _stack_lines(facts, "password", "pam_pwquality.so")
    if isinstance(lines, Outcome):
        return lines
    settings = pwquality_settings(facts.target)
    evidence, short = [], False
    for line in lines:
        minlen = effective(settings, line, "minlen") or Setting("?", line.path, line.line)
        evidence.append(_setting_evidence("pam_pwquality minlen", minlen))
        value = _as_int(minlen.value)
        short = short or value is None or value < MIN_PASSWORD_LENGTH
    return Outcome(Status.FAIL if short else Status.PASS, tuple(evidence))


def account_lockout(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_faillock in the auth stack, locking after at most 5 failures for 15 minutes or until reset."""
    lines = _stack_lines(facts, "auth", "pam_faillock.so")
    if isinstance(lines, Outcome):
        return lines
    settings = faillock_settings(facts.target)
    evidence, weak = [], False
    for line in lines:
        for name in ("deny", "unlock_time"):
            setting = effective(settings, line, name) or Setting("?", line.path, line.line)
            evidence.append(_setting_evidence(f"pam_faillock {name}", setting))
            value = _as_int(setting.value)
            if name == "deny":
                weak = weak or value is None or not 0 < value <= MAX_FAILED_ATTEMPTS
            else:
                weak = weak or value is None or (value != 0 and value < MIN_UNLOCK_SECONDS)
    return Outcome(Status.FAIL if weak else Status.PASS, tuple(dict.fromkeys(evidence)))
