"""What a check predicate receives and returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from imagevet.catalog.model import Catalog
from imagevet.facts import Facts
from imagevet.model import Outcome
from imagevet.provenance.model import Verification


@dataclass(frozen=True)
class CheckOptions:
    """Inputs that are not facts about the image: the audit date and the user's thresholds."""

    as_of: dt.date
    lifecycle_years: float = 3.0
    catalog: Catalog | None = None  # None: the bundled catalog
    cloud: str | None = None  # --cloud: the cloud the image is meant for (cloud readiness checks)
    provenance: Verification | None = None  # --image-id: what `imagevet verify` found for the image id


Predicate = Callable[[Facts, CheckOptions], Outcome]
