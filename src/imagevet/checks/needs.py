"""What the facts must look at because a check asks about it, derived from the checks' data: the sysctl
keys of the sysctl rows (read live on a running host), the files of the files rows and the paths the
cloud checks probe. Kept here, not as hand lists in facts/, so that adding a row is all it takes for its
key to be read."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from imagevet.checks.metadata import CheckMeta, builtin_metadata
from imagevet.facts.collection import FactNeeds


def row_keys(metadata: Iterable[CheckMeta], fact: str) -> tuple[str, ...]:
    """Every key a row of ``fact`` reads (a sysctl key, a file's path), in check order, once."""
    keys = (key for meta in metadata for row in meta.value if row.fact == fact for key in row.keys)
    return tuple(dict.fromkeys(keys))


def needs_of(metadata: Iterable[CheckMeta]) -> FactNeeds:
    from imagevet.checks.cloud import probe_paths
    from imagevet.checks.file_walk import WALK_CHECKS

    metas = tuple(metadata)
    walk = any(meta.id in WALK_CHECKS for meta in metas)
    return FactNeeds(row_keys(metas, "sysctl"), probe_paths(), row_keys(metas, "files"), walk)


@functools.cache
def builtin_needs() -> FactNeeds:
    return needs_of(builtin_metadata().values())


def needs_for(check_ids: Iterable[str]) -> FactNeeds:
    """What the facts look at for ``check_ids`` alone: on a live host (or over SSH, a round trip a key)
    a run of one sysctl row reads one running value, not every row's. The probe paths stay whole: they
    are looked at only when a cloud check first asks (Facts.present_paths is lazy)."""
    metadata = builtin_metadata()
    return needs_of(metadata[check_id] for check_id in check_ids)
