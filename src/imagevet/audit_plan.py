"""What an audit runs, decided from what the command line asked: the checks (a profile or --checks, the
cloud's readiness checks, source-official when an image id is verified) and what an ``ami:`` target
implies. Pure: verifying an image id, reading waivers and opening databases stay with the caller."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from imagevet.audit import select_checks, with_cloud_checks
from imagevet.checks.base import CheckOptions
from imagevet.errors import CheckSelectionError, ImagevetError

if TYPE_CHECKING:  # only an ami: target or --image-id verifies
    from imagevet.provenance.model import Verification

SOURCE_CHECK = "source-official"


def ami_cloud_and_id(target: str, cloud: str | None, image_id: str | None) -> tuple[str, str]:
    """An ``ami:`` target is an AWS image: ``--cloud`` is aws (implied), and the image id, for --push and
    the source-official check, is the AMI's own."""
    ami = target.removeprefix("ami:")
    if cloud not in (None, "aws"):
        raise ImagevetError(f"an ami: target is an AWS image: --cloud {cloud} does not apply")
    if image_id not in (None, ami):
        raise ImagevetError("--image-id names another image than the ami: target")
    return "aws", ami


def public_cloud_of(cloud: str | None) -> str | None:
    """The cloud whose readiness and publishers apply: none for ``onprem``, which only names the image
    of a pushed report."""
    return None if cloud == "onprem" else cloud


def planned_checks(
    requested: list[str] | None, profile: str, cloud: str | None, clouds: list[str]
) -> list[str]:
    """The check ids, in registry order: ``requested`` (--checks) or the profile's, plus the cloud's
    readiness checks when a public ``cloud`` is named and no --checks were."""
    check_ids = select_checks(requested, profile)
    if cloud is None:
        return check_ids
    if cloud not in clouds:
        raise CheckSelectionError(f"unknown cloud {cloud!r} (choose from: {', '.join(clouds)})")
    return with_cloud_checks(check_ids) if requested is None else check_ids


def with_source_check(check_ids: list[str]) -> list[str]:
    """``check_ids`` with source-official first: an image id or an AMI was verified."""
    return check_ids if SOURCE_CHECK in check_ids else [SOURCE_CHECK, *check_ids]


def plan_for_ami(
    check_ids: list[str], requested: list[str] | None, options: CheckOptions, described: Verification
) -> tuple[list[str], CheckOptions]:
    """An ``ami:`` target (or a fleet's ami: host) described by its own cloud: it is an AWS image, so it
    gets AWS's readiness checks (unless --checks chose) and source-official judged from that answer."""
    if options.cloud not in (None, "aws"):
        raise ImagevetError(f"an ami: target is an AWS image: --cloud {options.cloud} does not apply")
    ids = check_ids if requested is not None or options.cloud else with_cloud_checks(check_ids)
    return with_source_check(ids), dataclasses.replace(options, provenance=described, cloud="aws")
