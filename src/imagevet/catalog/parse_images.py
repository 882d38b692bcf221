"""Parse ``images/<cloud>.yaml``: a cloud's publishers and official images (see docs/catalog-data.md).
Pure: text in, records out; every problem names the file, record and field."""

from __future__ import annotations

from typing import Any

from imagevet.catalog.fields import Where, parse_sources
from imagevet.catalog.model import CLOUDS, FEATURES, PAID_COSTS, VARIANTS, Cloud, Offering, Publisher
from imagevet.errors import DataError

# The lookup keys each cloud's command is built from (recommend/lookup.py): one of the sets must be given.
LOOKUP_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws": (("ssm",), ("name",)),
    "azure": (("urn",), ("os-sku",)),
    "alibaba": (("family",), ("name",)),
    "tencent": (("platform", "name"),),
    "gcp": (("project", "family"), ("image-type",)),
}


def _lookup(where: Where, cloud: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise where.error("lookup", "must be a non-empty mapping")
    if not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()):
        raise where.error("lookup", "must map names to non-empty strings")
    if not any(all(k in raw for k in keys) for keys in LOOKUP_KEYS[cloud]):
        wanted = " or ".join("+".join(keys) for keys in LOOKUP_KEYS[cloud])
        raise where.error("lookup", f"needs {wanted} on {cloud}")
    return dict(raw)


def parse_image_file(file: str, data: Any, releases: set[str]) -> Cloud:
    if not isinstance(data, dict):
        raise DataError(f"{file}: top level must be a mapping")
    unknown = set(data) - {"cloud", "name", "sources", "publishers", "images"}
    if unknown:
        raise DataError(f"{file}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    top = Where(file, "top level")
    key = top.choice(data, "cloud", CLOUDS)
    sources = parse_sources(file, data.get("sources"))
    publishers_raw = data.get("publishers")
    if not isinstance(publishers_raw, dict) or not publishers_raw:
        raise top.error("publishers", "must be a non-empty mapping")
    publishers = {}
    for pkey, praw in publishers_raw.items():
        pw = Where(file, f"publishers.{pkey}")
        record = pw.mapping(praw)
        ids = pw.strings(record, "ids")
        if not ids:
            raise pw.error("ids", "must name at least one identity")
        pw.source(record, "source", sources)
        publishers[str(pkey)] = Publisher(str(pkey), pw.text(record, "name"), ids)
    images_raw = data.get("images")
    if not isinstance(images_raw, list) or not images_raw:
        raise top.error("images", "must be a non-empty list")
    offerings = []
    for index, raw in enumerate(images_raw):
        label = raw.get("image", "?") if isinstance(raw, dict) else "?"
        where = Where(file, f"images[{index}] ({label})")
        record = where.mapping(raw)
        release = where.text(record, "release")
        if release not in releases:
            raise where.error("release", f"{release!r} is not a release of the catalog")
        publisher = where.text(record, "publisher")
        if publisher not in publishers:
            raise where.error("publisher", f"{publisher!r} is not among this cloud's publishers")
        paid = record.get("paid")
        if paid is not None and paid not in PAID_COSTS:
            raise where.error("paid", f"must be null or one of {', '.join(PAID_COSTS)}")
        offerings.append(
            Offering(
                cloud=key,
                release=release,
                publisher=publishers[publisher],
                name=where.text(record, "name"),
                lookup=_lookup(where, key, record.get("lookup")),
                features=where.strings(record, "features", FEATURES),
                uncertain=where.strings(record, "uncertain"),
                image=where.text(record, "image"),
                variant=where.choice(record, "variant", VARIANTS),
                paid=paid,
                sources=where.sources(record, "sources", sources),
                notes=where.text(record, "notes", optional=True),
                arches=where.strings(record, "arches", ("x86_64", "arm64")),
            )
        )
    names = [o.image for o in offerings]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"{file}: image key(s) used twice: {', '.join(twice)}")
    return Cloud(key, top.text(data, "name"), publishers, tuple(offerings))
