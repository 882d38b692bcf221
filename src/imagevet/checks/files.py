"""Modes and owners of the system files (file-perms-*). The account databases' are value rows in
files.yaml; sshd_config's is judged only where an OpenSSH server is installed."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.modes import file_mode
from imagevet.checks.ssh import sshd_or_outcome
from imagevet.facts import Facts
from imagevet.model import Outcome


def perms_sshd_config(facts: Facts, options: CheckOptions) -> Outcome:
    config = sshd_or_outcome(facts)
    if isinstance(config, Outcome):
        return config
    return file_mode(facts.system_files, "/etc/ssh/sshd_config", 0o600)
