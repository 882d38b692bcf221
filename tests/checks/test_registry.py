"""The registry, the profiles and check selection."""

from __future__ import annotations

import pytest

from imagevet.audit import profiles, select_checks
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.registry import CHECKS
from imagevet.errors import CheckSelectionError


def test_registry_and_metadata_agree() -> None:
    assert set(CHECKS) == set(builtin_metadata())
    assert len(CHECKS) >= 16


def test_select_checks() -> None:
    assert select_checks(["os-lts", "ssh-root-login"]) == ["ssh-root-login", "os-lts"]
    with pytest.raises(CheckSelectionError, match="no-such-check"):
        select_checks(["no-such-check"])


def test_profiles() -> None:
    known = profiles()
    assert set(known) == {"checklist", "cis-l1", "mlps-l3", "pci-dss", "all"}
    assert len(select_checks(None)) == 18
    assert set(select_checks(None, "cis-l1")) >= {"file-perms-shadow", "ssh-max-auth-tries", "sysctl-aslr"}
    assert select_checks(None, "all") == list(known["all"][1])
    with pytest.raises(CheckSelectionError, match="choose from: checklist"):
        select_checks(None, "nist")
