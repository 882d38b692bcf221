"""SSH server checks over the effective sshd configuration. Checks of one keyword against a wanted value
are value rows in ssh.yaml (checks/values.py); what needs more than one keyword, or files, is here."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions, worst
from imagevet.checks.modes import file_mode
from imagevet.facts import Facts
from imagevet.facts.sshd import SshdConfig, SshdSetting
from imagevet.model import Evidence, Outcome, Status, Unknown


def sshd_or_outcome(facts: Facts) -> SshdConfig | Outcome:
    """The configuration, or the skip/error outcome every SSH check shares."""
    config = facts.sshd
    if config is None:
        return Outcome.of(Status.SKIP, "no OpenSSH server is installed in the image")
    if isinstance(config, Unknown):
        return Outcome.of(Status.ERROR, config.reason)
    if config.undecided:
        return Outcome.of(Status.ERROR, f"the sshd configuration cannot be judged: {config.undecided}")
    if config.fatal:
        more = f" (and {len(config.fatal) - 1} more)" if len(config.fatal) > 1 else ""
        return Outcome.of(Status.ERROR, f"sshd would refuse this configuration: {config.fatal[0]}{more}")
    return config


def setting_evidence(setting: SshdSetting) -> Evidence:
    if setting.is_default:
        return Evidence(f"{setting.keyword} {setting.value} (OpenSSH default: not set in any file)")
    return Evidence(f"{setting.keyword} {setting.value}", setting.path, setting.line)


def password_auth(facts: Facts, options: CheckOptions) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    password = config.get("passwordauthentication")
    kbd = config.get("kbdinteractiveauthentication")
    pam = config.get("usepam")
    evidence = [setting_evidence(password), setting_evidence(kbd), setting_evidence(pam)]
    ok = password.value == "no"
    if kbd.value == "yes" and pam.value == "yes":
        ok = False
        evidence.append(Evidence("keyboard-interactive through PAM still prompts for passwords"))
    for keyword in ("passwordauthentication", "kbdinteractiveauthentication"):
        for block, override in config.match_overrides(keyword):
            reopens = override.value == "yes" and (keyword == "passwordauthentication" or pam.value == "yes")
            if reopens:
                ok = False
                evidence.append(
                    Evidence(f"Match {block.criteria}: {keyword} yes", override.path, override.line)
                )
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def _key_modes(facts: Facts, which: str, max_mode: int, groups: tuple[str, ...]) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    files = facts.system_files
    keys = files.host_keys if which == "private" else files.host_public_keys
    if not keys:
        return Outcome.of(Status.PASS, f"no host {which} keys in the image (generated on first boot)")
    outcomes = [file_mode(files, key, max_mode, groups) for key in keys]
    evidence = tuple(e for outcome in outcomes for e in outcome.evidence)
    if any(o.status is Status.ERROR for o in outcomes):
        return Outcome(Status.ERROR, evidence)
    failed = any(o.status is Status.FAIL for o in outcomes)
    return Outcome(Status.FAIL if failed else Status.PASS, evidence)


def host_keys(facts: Facts, options: CheckOptions) -> Outcome:
    """Host private keys readable by root (and the ssh_keys group of Red Hat's sshd) only."""
    return _key_modes(facts, "private", 0o640, ("root", "ssh_keys"))


def host_public_keys(facts: Facts, options: CheckOptions) -> Outcome:
    """Host public keys writable by root only (CIS: 0644, root:root): a replaced one misleads clients
    that pin it, and ssh-keyscan publishes what is there."""
    return _key_modes(facts, "public", 0o644, ("root",))


MAX_STARTUPS_LIMITS = (10, 30, 60)  # CIS: start:rate:full of 10:30:60 or more restrictive
MAX_STARTUPS_DEFAULT = "10:30:100"  # sshd_config(5), and Debian 12's sshd -T


def parse_max_startups(value: str) -> tuple[int, int, int] | None:
    """sshd's own reading (servconf.c): three fields with start <= full, 1 <= rate <= 100, or one number
    N that means N:30:N (sshd -T prints `maxstartups 10:30:10` for `MaxStartups 10`). Else sshd refuses."""
    fields = value.split(":")
    if not all(field.isdigit() for field in fields) or len(fields) not in (1, 3):
        return None
    if len(fields) == 1:
        return int(fields[0]), 30, int(fields[0])
    start, rate, full = (int(field) for field in fields)
    if start > full or full < 1 or not 1 <= rate <= 100:
        return None
    return start, rate, full


def max_startups(facts: Facts, options: CheckOptions) -> Outcome:
    """MaxStartups start:rate:full no looser than CIS's 10:30:60, each field compared as CIS's audit does."""
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    setting = config.get("maxstartups")
    if setting.is_default:
        setting = SshdSetting("maxstartups", MAX_STARTUPS_DEFAULT)
    evidence = setting_evidence(setting)
    parsed = parse_max_startups(setting.value)
    if parsed is None:
        return Outcome(Status.ERROR, (evidence, Evidence("sshd refuses this MaxStartups spec")))
    names = ("start", "rate", "full")
    looser = [
        f"{n} {v} > {limit}"
        for n, v, limit in zip(names, parsed, MAX_STARTUPS_LIMITS, strict=True)
        if v > limit
    ]
    if looser:
        return Outcome(Status.FAIL, (evidence, Evidence("looser than 10:30:60: " + ", ".join(looser))))
    return Outcome(Status.PASS, (evidence,))


ACCESS_KEYWORDS = ("allowusers", "allowgroups", "denyusers", "denygroups")


def access_limited(facts: Facts, options: CheckOptions) -> Outcome:
    """At least one of AllowUsers, AllowGroups, DenyUsers, DenyGroups for every connection (set globally
    or in `Match all`); one set only inside a conditional Match block limits some connections, not all."""
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    found = [s for key in ACCESS_KEYWORDS for s in config.settings.get(key, [])]
    found += [config.match_all[key] for key in ACCESS_KEYWORDS if key in config.match_all]
    if found:
        return Outcome(Status.PASS, tuple(setting_evidence(s) for s in found))
    only_in_match = [
        Evidence(f"Match {block.criteria}: {override.keyword} {override.value}", override.path, override.line)
        for key in ACCESS_KEYWORDS
        for block, override in config.match_overrides(key)
    ]
    return Outcome(
        Status.FAIL,
        (
            Evidence("no AllowUsers, AllowGroups, DenyUsers or DenyGroups for every connection"),
            *only_in_match,
        ),
    )


def _banner_judged(facts: Facts, setting: SshdSetting, where: str) -> tuple[Status, Evidence]:
    """Whether the file a Banner value names shows something: sshd sends nothing for `none`, for a file
    it cannot open or for an empty one, so the keyword alone proves no banner."""
    if setting.value == "none":
        return Status.FAIL, Evidence(f"{where}no banner (Banner none)", setting.path, setting.line)
    if not setting.value.startswith("/"):
        detail = f"{where}Banner {setting.value} is not an absolute path (sshd opens it from where it runs)"
        return Status.ERROR, Evidence(detail, setting.path, setting.line)
    banner = facts.banner(setting.value)
    if isinstance(banner, Unknown):
        return Status.ERROR, Evidence(f"{where}{banner.reason}", setting.value)
    if banner.text is None:
        return Status.FAIL, Evidence(
            f"{where}Banner {setting.value}: no such file, so sshd shows none", setting.value
        )
    if not banner.shows_text:
        return Status.FAIL, Evidence(
            f"{where}Banner {setting.value} is empty, so sshd shows nothing", setting.value
        )
    return Status.PASS, Evidence(
        f"{where}Banner {setting.value} shows {len(banner.text.splitlines())} line(s)", setting.value
    )


def banner(facts: Facts, options: CheckOptions) -> Outcome:
    """A warning banner before authentication, for every connection: the Banner file (and that of each
    Match block that sets one) exists and says something."""
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    setting = config.get("banner")
    judged = [(Status.PASS, setting_evidence(setting)), _banner_judged(facts, setting, "")]
    for block, override in config.match_overrides("banner"):
        judged.append(_banner_judged(facts, override, f"Match {block.criteria}: "))
    return Outcome(worst(s for s, _ in judged), tuple(dict.fromkeys(e for _, e in judged)))
