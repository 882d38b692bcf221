"""The image override file (``image-overrides.yaml`` in the user's data directory): publisher facts that
change, as `imagevet catalog update --from-cloud aws` last read them from the cloud.

Pure: a document in, typed records out (bounded YAML through :mod:`imagevet.catalog.safe_yaml`, every
problem naming the file and the line), and records applied to a catalog. The file never adds or removes
an image; facts for images this version of imagevet does not list are ignored. Shape::

    source: aws-api
    clouds:
      aws:
        region: us-east-1
        checked: "2026-12-02T10:00:00Z"
        images:
          ubuntu-24.04: {status: found, id: ami-..., name: ..., created: ..., owner: "099720109477",
                         region: us-east-1, checked: "2026-12-02T10:00:00Z", via: ssm}
          rhel-10: {status: missing, region: us-east-1, checked: ..., reason: ...}
        new:
          - {release: ubuntu 26.10, parameter: /aws/service/canonical/..., value: ami-...}
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagevet import lazy
from imagevet.catalog.model import Catalog
from imagevet.catalog.safe_yaml import Document, Limits, load
from imagevet.catalog.store import IMAGE_OVERRIDE_FILE as IMAGE_OVERRIDE_FILE  # named beside its siblings
from imagevet.errors import DataError

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy.module("yaml")  # imported on first use (imagevet/lazy.py)

LIMITS = Limits(max_chars=4 * 1024 * 1024, max_depth=8, max_aliases=100, max_entries=200_000)
STATUSES = ("found", "missing", "skipped")
# Keys added to an offering's ``lookup`` when the file has a fact for it; renderers move them into a
# ``latest`` object (they are never lookup keys: the lookup command ignores them).
LATEST_PREFIX = "latest_"
FACT_FIELDS = ("status", "id", "name", "created", "owner", "region", "checked", "via", "reason")
NEW_FIELDS = ("release", "parameter", "value")
MAX_TEXT = 2048
_CHECKED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)


@dataclass(frozen=True)
class ImageFact:
    """What the cloud answered for one catalog image's lookup."""

    image: str
    status: str  # found | missing | skipped
    region: str
    checked: str  # UTC, YYYY-MM-DDTHH:MM:SSZ
    id: str | None = None
    name: str | None = None
    created: str | None = None
    owner: str | None = None
    via: str | None = None  # ssm | name
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        values = {
            "status": self.status, "region": self.region, "checked": self.checked, "id": self.id,
            "name": self.name, "created": self.created, "owner": self.owner, "via": self.via,
            "reason": self.reason or None,
        }  # fmt: skip
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class NewRelease:
    """A release a publisher's public parameter tree has that the catalog does not list yet."""

    release: str
    parameter: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"release": self.release, "parameter": self.parameter, "value": self.value}


@dataclass(frozen=True)
class CloudFacts:
    cloud: str
    region: str
    checked: str
    images: dict[str, ImageFact] = field(default_factory=dict)
    new: tuple[NewRelease, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for f in self.images.values() if f.status == status)


@dataclass(frozen=True)
class ImageOverrides:
    source: str
    clouds: dict[str, CloudFacts]

    def fact(self, cloud: str, image: str) -> ImageFact | None:
        found = self.clouds.get(cloud)
        return None if found is None else found.images.get(image)


def checked_at(moment: dt.datetime) -> str:
    """The check time as the file records it: UTC to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_document(overrides: ImageOverrides) -> dict[str, Any]:
    return {
        "source": overrides.source,
        "clouds": {
            key: {
                "region": facts.region,
                "checked": facts.checked,
                "images": {name: fact.as_dict() for name, fact in sorted(facts.images.items())},
                "new": [n.as_dict() for n in facts.new],
            }
            for key, facts in sorted(overrides.clouds.items())
        },
    }


def write(path: Path, overrides: ImageOverrides) -> None:
    """Write the file atomically (a temporary file in the same directory, then rename): a failure
    part-way leaves the previous file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when the file is written

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(to_document(overrides), handle, sort_keys=False, allow_unicode=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- parsing -----------------------------------------------------------------------------------------


def _text(doc: Document, node: yaml.Node, what: str) -> str:
    value = doc.value(node, what)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise doc.fail(node, f"{what} must be text")
    text = str(value)
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise doc.fail(node, f"{what} must be printable text of 1 to {MAX_TEXT} characters")
    return text


def _checked(doc: Document, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not _CHECKED.fullmatch(str(node.value)):
        raise doc.fail(node, f"{what} must be a UTC time YYYY-MM-DDTHH:MM:SSZ")
    try:
        dt.datetime.strptime(str(node.value), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise doc.fail(node, f"{what} is not a real time") from exc
    return str(node.value)


def _fields(doc: Document, node: yaml.Node, what: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, f"{what} must be a mapping")
    found: dict[str, yaml.Node] = {}
    for key, key_node, value_node in doc.mapping(node, what):
        if key not in allowed:
            raise doc.fail(key_node, f"{what}: unknown field (allowed: {', '.join(allowed)})")
        found[key] = value_node
    return found


def _fact(doc: Document, image: str, node: yaml.Node, what: str) -> ImageFact:
    raw = _fields(doc, node, what, FACT_FIELDS)
    for required in ("status", "region", "checked"):
        if required not in raw:
            raise doc.fail(node, f"{what}: needs '{required}'")
    status = _text(doc, raw["status"], f"{what}.status")
    if status not in STATUSES:
        raise doc.fail(raw["status"], f"{what}.status must be one of {', '.join(STATUSES)}")
    if status == "found" and "id" not in raw:
        raise doc.fail(node, f"{what}: a found image needs 'id'")
    optional = {
        name: None if Document.is_null(raw.get(name)) else _text(doc, raw[name], f"{what}.{name}")
        for name in ("id", "name", "created", "owner", "via", "reason")
    }
    return ImageFact(
        image=image,
        status=status,
        region=_text(doc, raw["region"], f"{what}.region"),
        checked=_checked(doc, raw["checked"], f"{what}.checked"),
        id=optional["id"],
        name=optional["name"],
        created=optional["created"],
        owner=optional["owner"],
        via=optional["via"],
        reason=optional["reason"] or "",
    )


def _cloud(doc: Document, key: str, node: yaml.Node) -> CloudFacts:
    what = f"clouds.{key}"
    raw = _fields(doc, node, what, ("region", "checked", "images", "new"))
    for required in ("region", "checked"):
        if required not in raw:
            raise doc.fail(node, f"{what}: needs '{required}'")
    images: dict[str, ImageFact] = {}
    if "images" in raw and not Document.is_null(raw["images"]):
        for image, _, fact_node in doc.mapping(raw["images"], f"{what}.images"):
            images[image] = _fact(doc, image, fact_node, f"{what}.images.{image}")
    new: list[NewRelease] = []
    if "new" in raw and not Document.is_null(raw["new"]):
        for index, item in enumerate(doc.sequence(raw["new"], f"{what}.new")):
            label = f"{what}.new[{index}]"
            fields = _fields(doc, item, label, NEW_FIELDS)
            missing = [name for name in NEW_FIELDS if name not in fields]
            if missing:
                raise doc.fail(item, f"{label}: needs '{missing[0]}'")
            new.append(NewRelease(*(_text(doc, fields[n], f"{label}.{n}") for n in NEW_FIELDS)))
    return CloudFacts(
        key,
        _text(doc, raw["region"], f"{what}.region"),
        _checked(doc, raw["checked"], f"{what}.checked"),
        images,
        tuple(new),
    )


def parse(name: str, text: str) -> ImageOverrides:
    """The records of an image override file; every problem is a DataError naming the file and line."""
    doc = load(text, name, DataError, LIMITS)
    root = doc.root
    if not isinstance(root, yaml.MappingNode):
        raise doc.fail(root, "top level must be a mapping with 'clouds'")
    source = ""
    clouds: dict[str, CloudFacts] = {}
    seen_clouds = False
    for key, key_node, value_node in doc.mapping(root, "the top level"):
        if key == "source":
            source = _text(doc, value_node, "source")
        elif key == "clouds":
            seen_clouds = True
            if not Document.is_null(value_node):
                for cloud, _, cloud_node in doc.mapping(value_node, "clouds"):
                    clouds[cloud] = _cloud(doc, cloud, cloud_node)
        else:
            raise doc.fail(key_node, "unknown top-level key (allowed: source, clouds)")
    if not seen_clouds:
        raise doc.fail(root, "top level must be a mapping with 'clouds'")
    return ImageOverrides(source, clouds)


# --- applying ----------------------------------------------------------------------------------------


def latest(lookup: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split a lookup record into its own keys and the ``latest`` object the override file added."""
    own = {k: v for k, v in lookup.items() if not k.startswith(LATEST_PREFIX)}
    added = {k[len(LATEST_PREFIX) :]: v for k, v in lookup.items() if k.startswith(LATEST_PREFIX)}
    return own, (added or None)


def apply(catalog: Catalog, overrides: ImageOverrides) -> Catalog:
    """The catalog with each image's latest known facts in its lookup (``latest_id`` ...); images the
    catalog does not list are ignored."""
    clouds = dict(catalog.clouds)
    for key, facts in overrides.clouds.items():
        cloud = clouds.get(key)
        if cloud is None:
            continue
        offerings = []
        for offering in cloud.offerings:
            fact = facts.images.get(offering.image)
            if fact is None:
                offerings.append(offering)
                continue
            extra = {f"{LATEST_PREFIX}{k}": v for k, v in fact.as_dict().items()}
            offerings.append(replace(offering, lookup={**offering.lookup, **extra}))
        clouds[key] = replace(cloud, offerings=tuple(offerings))
    return replace(catalog, clouds=clouds)
