"""What a check predicate receives and returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagevet.catalog.model import Catalog
from imagevet.facts import Facts
from imagevet.model import Outcome, Status

if TYPE_CHECKING:  # only with --image-id (imported by provenance/verify.py then)
    from imagevet.provenance.model import Verification

# The guide's baseline for cloud-init (its checklist: ">= 22.1"); audit --min-cloud-init changes it.
MIN_CLOUD_INIT = "22.1"


@dataclass(frozen=True)
class CheckOptions:
    """Inputs that are not facts about the image: the audit date and the user's thresholds."""

    as_of: dt.date
    lifecycle_years: float = 3.0
    catalog: Catalog | None = None  # None: the bundled catalog
    cloud: str | None = None  # --cloud: the cloud the image is meant for (cloud readiness checks)
    provenance: Verification | None = None  # --image-id: what `imagevet verify` found for the image id
    min_cloud_init: str = MIN_CLOUD_INIT  # --min-cloud-init: the oldest cloud-init version that passes


Predicate = Callable[[Facts, CheckOptions], Outcome]


def worst(statuses: Iterable[Status]) -> Status:
    """The status of a check judged in parts: error if one part could not be decided, else fail if one
    failed, else pass. Undecided outranks failed, so a check never reports a fail it did not finish."""
    seen = set(statuses)
    return next((s for s in (Status.ERROR, Status.FAIL) if s in seen), Status.PASS)
