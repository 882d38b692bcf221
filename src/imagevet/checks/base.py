"""What a check predicate receives and returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from imagevet.catalog.model import Catalog
from imagevet.facts import Facts
from imagevet.model import Outcome


@dataclass(frozen=True)
class CheckOptions:
    """Inputs that are not facts about the image: the audit date and the user's thresholds."""

    as_of: dt.date
    lifecycle_years: float = 3.0
    catalog: Catalog | None = None  # None: the bundled catalog
    cloud: str | None = None  # --cloud: the cloud the image is meant for (cloud readiness checks)


Predicate = Callable[[Facts, CheckOptions], Outcome]
