"""SSH server checks over the effective sshd configuration. Checks of one keyword against a wanted value
are value rows in ssh.yaml (checks/values.py); what needs more than one keyword, or files, is here."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
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
