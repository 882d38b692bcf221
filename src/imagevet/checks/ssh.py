"""SSH server checks over the effective sshd configuration."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
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


def _require(facts: Facts, keyword: str, wanted: str) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    setting = config.get(keyword)
    evidence = [setting_evidence(setting)]
    ok = setting.value == wanted
    for block, override in config.match_overrides(keyword):
        if override.value != wanted:
            ok = False
            evidence.append(
                Evidence(f"Match {block.criteria}: {keyword} {override.value}", override.path, override.line)
            )
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


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


def root_login(facts: Facts, options: CheckOptions) -> Outcome:
    return _require(facts, "permitrootlogin", "no")


def empty_passwords(facts: Facts, options: CheckOptions) -> Outcome:
    return _require(facts, "permitemptypasswords", "no")
