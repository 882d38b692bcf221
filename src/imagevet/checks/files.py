"""Modes and owners of the system files (file-perms-*): account databases and the sshd configuration."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.modes import file_mode
from imagevet.checks.ssh import sshd_or_outcome
from imagevet.facts import Facts
from imagevet.model import Outcome, Status


def perms_passwd(facts: Facts, options: CheckOptions) -> Outcome:
    return file_mode(facts.system_files, "/etc/passwd", 0o644)


def perms_group(facts: Facts, options: CheckOptions) -> Outcome:
    return file_mode(facts.system_files, "/etc/group", 0o644)


def perms_shadow(facts: Facts, options: CheckOptions) -> Outcome:
    return file_mode(facts.system_files, "/etc/shadow", 0o640, ("root", "shadow"))


def perms_gshadow(facts: Facts, options: CheckOptions) -> Outcome:
    if "/etc/gshadow" not in facts.system_files.present:
        return Outcome.of(Status.SKIP, "/etc/gshadow does not exist in the image")
    return file_mode(facts.system_files, "/etc/gshadow", 0o640, ("root", "shadow"))


def perms_sshd_config(facts: Facts, options: CheckOptions) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    return file_mode(facts.system_files, "/etc/ssh/sshd_config", 0o600)
