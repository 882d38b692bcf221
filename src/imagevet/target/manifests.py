"""The JSON documents of container images, parsed strictly: docker-archive ``manifest.json``, OCI
``index.json``, image manifests and indexes, image configs.

Pure functions over bytes. Each checks the types of every field imagevet uses (a list where a list
belongs, strings inside it, well-formed digests, non-negative integer sizes) and raises a TargetError
that names the document and the field (``manifest.json: [0].Layers[2] is not a string``), never a value
taken from the document. A document is bounded before it is parsed (MAX_JSON_BYTES, and at most
MAX_JSON_CONTAINERS objects and arrays, which bounds the memory a hostile document can take).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from imagevet.errors import TargetError
from imagevet.target.digests import Digest, parse_digest

MAX_JSON_BYTES = 4 * 1024 * 1024  # what registries accept for a manifest; real configs are KiBs
MAX_JSON_CONTAINERS = 200_000
MAX_NESTING = 4  # an index of indexes of manifests: real layouts nest at most once
REF_NAME = "org.opencontainers.image.ref.name"
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what a blob is, its digest and its size."""

    media_type: str
    digest: Digest
    size: int
    ref_name: str | None = None


@dataclass(frozen=True)
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class DockerImage:
    """One image of a docker-archive ``manifest.json``: member names of its config and layers."""

    config: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class ImageConfigDocument:
    document: dict[str, Any]
    diff_ids: tuple[Digest, ...] | None  # rootfs.diff_ids when present


def load_json(data: bytes, what: str) -> Any:
    """Parse a bounded JSON document; anything malformed, absurdly nested or too large is a TargetError."""
    if len(data) > MAX_JSON_BYTES:
        raise TargetError(f"{what} is larger than {MAX_JSON_BYTES} bytes")
    if data.count(b"{") + data.count(b"[") > MAX_JSON_CONTAINERS:
        raise TargetError(f"{what} has more than {MAX_JSON_CONTAINERS} objects and arrays")
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise TargetError(f"{what} is nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise TargetError(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # bad UTF-8, an integer with too many digits
        raise TargetError(f"{what} is not valid JSON ({exc.__class__.__name__})") from exc


def _object(value: object, what: str, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TargetError(f"{what}: {field} is not an object")
    return value


def _list(value: object, what: str, field: str, optional: bool = False) -> list[Any]:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise TargetError(f"{what}: {field} is not a list")
    return value


def _string(value: object, what: str, field: str) -> str:
    if not isinstance(value, str):
        raise TargetError(f"{what}: {field} is not a string")
    return value


def _strings(value: object, what: str, field: str) -> list[str]:
    """An optional list of strings (JSON null and a missing key read as empty, as Go decodes them)."""
    return [_string(item, what, f"{field}[{i}]") for i, item in enumerate(_list(value, what, field, True))]


def _schema_2(document: dict[str, Any], what: str) -> None:
    version = document.get("schemaVersion")
    if type(version) is not int or version != 2:
        raise TargetError(f"{what}: schemaVersion is not 2")


def descriptor(value: object, what: str, field: str) -> Descriptor:
    item = _object(value, what, field)
    media_type = _string(item.get("mediaType"), what, f"{field}.mediaType")
    digest = parse_digest(item.get("digest"))
    if digest is None:
        raise TargetError(f"{what}: {field}.digest is not a sha256 or sha512 digest")
    size = item.get("size")
    if type(size) is not int or size < 0:
        raise TargetError(f"{what}: {field}.size is not a non-negative integer")
    annotations = item.get("annotations")
    ref_name = None
    if annotations is not None:
        notes = _object(annotations, what, f"{field}.annotations")
        for key, note in notes.items():
            _string(note, what, f"{field}.annotations (a value)")
            if key == REF_NAME:
                ref_name = note
    if item.get("platform") is not None:
        _object(item["platform"], what, f"{field}.platform")
    return Descriptor(media_type, digest, size, ref_name)


def oci_index(data: bytes, what: str) -> tuple[Descriptor, ...]:
    """The manifests an OCI index (``index.json`` or a nested index blob) lists; at least one."""
    document = _object(load_json(data, what), what, "the document")
    _schema_2(document, what)
    manifests = _list(document.get("manifests"), what, "manifests")
    if not manifests:
        raise TargetError(f"{what} lists no manifest")
    return tuple(descriptor(item, what, f"manifests[{i}]") for i, item in enumerate(manifests))


def is_index(media_type: str, document: dict[str, Any]) -> bool:
    return media_type in INDEX_TYPES or ("manifests" in document and "layers" not in document)


def oci_manifest(data: bytes, what: str, expected_type: str) -> Manifest | tuple[Descriptor, ...]:
    """An image manifest (config and layers), or, for a nested index, the manifests it lists.

    ``expected_type`` is the mediaType of the descriptor that named this blob; the document's own
    mediaType, when it has one, must agree (otherwise an index could pose as a manifest)."""
    document = _object(load_json(data, what), what, "the document")
    own_type = document.get("mediaType")
    if own_type is not None and _string(own_type, what, "mediaType") != expected_type:
        raise TargetError(f"{what}: mediaType differs from the descriptor that names it")
    if is_index(expected_type, document):
        return oci_index(data, what)
    _schema_2(document, what)
    config = descriptor(document.get("config"), what, "config")
    layers = _list(document.get("layers"), what, "layers")
    if not layers:
        raise TargetError(f"{what} lists no layers")
    return Manifest(config, tuple(descriptor(item, what, f"layers[{i}]") for i, item in enumerate(layers)))


def docker_manifest(data: bytes, what: str) -> DockerImage:
    """The first image of a docker-archive ``manifest.json`` (every item's types are checked)."""
    document = _list(load_json(data, what), what, "the document")
    if not document:
        raise TargetError(f"{what} lists no image")
    images = []
    for i, value in enumerate(document):
        item = _object(value, what, f"[{i}]")
        config = _string(item.get("Config"), what, f"[{i}].Config")
        if not config:
            raise TargetError(f"{what}: [{i}].Config is empty")
        layers = _strings(item.get("Layers"), what, f"[{i}].Layers")
        _strings(item.get("RepoTags"), what, f"[{i}].RepoTags")
        images.append(DockerImage(config, tuple(layers)))
    if not images[0].layers:
        raise TargetError(f"{what}: [0].Layers lists no layers")
    return images[0]


def image_config(data: bytes, what: str) -> ImageConfigDocument:
    """An image config: the fields an audit reports are type-checked, and rootfs.diff_ids parsed."""
    document = _object(load_json(data, what), what, "the document")
    for key in ("config", "container_config"):
        settings = document.get(key)
        if settings is None:
            continue
        settings = _object(settings, what, key)
        user = settings.get("User")
        if user is not None:
            _string(user, what, f"{key}.User")
        for field in ("Entrypoint", "Cmd", "Env"):
            _strings(settings.get(field), what, f"{key}.{field}")
    _list(document.get("history"), what, "history", optional=True)
    rootfs = document.get("rootfs")
    if rootfs is None:
        return ImageConfigDocument(document, None)
    rootfs = _object(rootfs, what, "rootfs")
    diff_ids = []
    for i, value in enumerate(_list(rootfs.get("diff_ids"), what, "rootfs.diff_ids")):
        digest = parse_digest(value)
        if digest is None:
            raise TargetError(f"{what}: rootfs.diff_ids[{i}] is not a sha256 or sha512 digest")
        diff_ids.append(digest)
    return ImageConfigDocument(document, tuple(diff_ids))


def select(manifests: tuple[Descriptor, ...], reference: str | None, what: str) -> Descriptor:
    """The descriptor a user's ``@TAG`` or ``@DIGEST`` names, else the first one."""
    if reference is None:
        return manifests[0]
    for item in manifests:
        if str(item.digest) == reference or item.ref_name == reference:
            return item
    raise TargetError(f"{what}: no image {reference!r} in the layout")  # the user's words, not the file's
