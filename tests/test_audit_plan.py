"""What an audit runs (audit_plan.py): the checks a profile, --checks and --cloud choose, and what an
ami: target implies. The same decisions the CLI used to make inline, now testable without a target."""

from __future__ import annotations

import pytest

from imagevet.audit import select_checks
from imagevet.audit_plan import (
    ami_cloud_and_id,
    planned_checks,
    public_cloud_of,
    with_source_check,
)
from imagevet.checks.cloud import readiness
from imagevet.errors import ImagevetError

CLOUDS = list(readiness())


def test_a_cloud_adds_its_readiness_checks_to_a_profile_but_not_to_named_checks() -> None:
    plain = planned_checks(None, "checklist", None, CLOUDS)
    with_cloud = planned_checks(None, "checklist", "aws", CLOUDS)
    added = [c for c in with_cloud if c not in plain]
    assert added and all(c.startswith("cloud-") for c in added)
    assert planned_checks(["os-lts"], "checklist", "aws", CLOUDS) == ["os-lts"]


def test_an_unknown_cloud_and_onprem() -> None:
    with pytest.raises(ImagevetError, match="unknown cloud 'mars'"):
        planned_checks(None, "checklist", "mars", CLOUDS)
    assert public_cloud_of("onprem") is None and public_cloud_of("gcp") == "gcp"


def test_source_official_comes_first_once() -> None:
    ids = select_checks(None, "checklist")
    assert with_source_check(["os-lts"]) == ["source-official", "os-lts"]
    assert with_source_check(with_source_check(ids)).count("source-official") == 1


def test_an_ami_is_an_aws_image_with_its_own_id() -> None:
    assert ami_cloud_and_id("ami:ami-0abc", None, None) == ("aws", "ami-0abc")
    with pytest.raises(ImagevetError, match="--cloud azure does not apply"):
        ami_cloud_and_id("ami:ami-0abc", "azure", None)
    with pytest.raises(ImagevetError, match="another image"):
        ami_cloud_and_id("ami:ami-0abc", "aws", "ami-0def")
