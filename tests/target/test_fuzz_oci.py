"""Property-based fuzzing of the image JSON parsers and of whole docker-archives and OCI layouts built
around fuzzed documents (issue 15: bounded in CI).

Documents are either arbitrary JSON values, or the real documents tests/support/images.py writes with one
field replaced by an arbitrary JSON value, or arbitrary bytes. Properties: only the project's own errors
escape (no KeyError, TypeError, AttributeError, RecursionError, ValueError), quickly, and what parses is
typed as promised.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.errors import ImagevetError
from imagevet.target import open_target
from imagevet.target.digests import Digest
from imagevet.target.manifests import (
    Descriptor,
    DockerImage,
    Manifest,
    docker_manifest,
    image_config,
    load_json,
    oci_index,
    oci_manifest,
)
from tests.support.images import file_entry, make_docker_archive, make_oci_layout, tar_of

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
DESCRIPTOR = {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + "a" * 64,
    "size": 7,
}
REAL = {
    "index": {"schemaVersion": 2, "manifests": [dict(DESCRIPTOR)]},
    "manifest": {
        "schemaVersion": 2,
        "mediaType": DESCRIPTOR["mediaType"],
        "config": {**DESCRIPTOR, "mediaType": "application/vnd.oci.image.config.v1+json"},
        "layers": [{**DESCRIPTOR, "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}],
    },
    "docker": [{"Config": "c.json", "RepoTags": ["a:b"], "Layers": ["l/layer.tar"]}],
    "config": {
        "config": {"User": "", "Env": ["A=b"], "Cmd": ["sh"], "Entrypoint": None},
        "history": [{}],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "b" * 64]},
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def one_field_replaced(draw: st.DrawFn, kind: str, base: object = None) -> bytes:
    document = json.loads(json.dumps(REAL[kind] if base is None else base))
    path = draw(st.sampled_from(_paths(document)))
    replacement = draw(JSON)
    if not path:
        return json.dumps(replacement).encode()
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        parent.pop(path[-1])
    else:
        parent[path[-1]] = replacement
    return json.dumps(document).encode()


def _parse(kind: str, data: bytes) -> object:
    if kind == "index":
        return oci_index(data, "index.json")
    if kind == "manifest":
        return oci_manifest(data, "manifest", DESCRIPTOR["mediaType"])
    if kind == "docker":
        return docker_manifest(data, "manifest.json")
    return image_config(data, "config")


def _check_parse(kind: str, data: bytes) -> None:
    start = time.monotonic()
    try:
        parsed = _parse(kind, data)
    except ImagevetError as exc:
        assert "\n" not in str(exc)
        return
    finally:
        assert time.monotonic() - start < 1.0
    if kind == "index":
        assert isinstance(parsed, tuple) and all(isinstance(d, Descriptor) for d in parsed)
        assert all(isinstance(d.digest, Digest) and type(d.size) is int and d.size >= 0 for d in parsed)
    elif kind == "manifest":
        assert isinstance(parsed, Manifest | tuple)
    elif kind == "docker":
        assert isinstance(parsed, DockerImage) and all(isinstance(name, str) for name in parsed.layers)


KINDS = st.sampled_from(list(REAL))


@FUZZ
@given(KINDS, st.data())
def test_real_documents_with_one_field_replaced(kind: str, data: st.DataObject) -> None:
    _check_parse(kind, data.draw(one_field_replaced(kind)))


@FUZZ
@given(KINDS, JSON)
def test_arbitrary_json_documents(kind: str, value: object) -> None:
    _check_parse(kind, json.dumps(value).encode())


@FUZZ
@given(KINDS, st.binary(max_size=256))
def test_arbitrary_bytes(kind: str, data: bytes) -> None:
    _check_parse(kind, data)


@FUZZ
@given(
    st.sampled_from([b"[", b'{"a":', b"[1e999999]", b"1" * 5000, b'"\\ud800"', b"\xff\xfe"]),
    st.integers(1, 50_000),
)
def test_pathological_json(piece: bytes, count: int) -> None:
    with contextlib.suppress(ImagevetError):
        load_json(piece * count, "doc")


LAYER = tar_of([file_entry("etc/os-release", "ID=debian\n")])


def _real_docker_manifest() -> object:
    """manifest.json as make_docker_archive writes it (real member names), the base for fuzzing."""
    folder = Path(tempfile.mkdtemp(prefix="imagevet-fuzz-"))
    try:
        import tarfile

        with tarfile.open(make_docker_archive([LAYER], folder / "image.tar")) as archive:
            member = archive.extractfile("manifest.json")
            assert member is not None
            return json.loads(member.read())
    finally:
        shutil.rmtree(folder)


DOCKER_MANIFEST = _real_docker_manifest()


@FEW
@given(st.data())
def test_oci_layouts_with_a_fuzzed_index_or_manifest(data: st.DataObject) -> None:
    folder = Path(tempfile.mkdtemp(prefix="imagevet-fuzz-"))
    try:
        layout = make_oci_layout([LAYER], folder / "oci")
        if data.draw(st.booleans()):
            index = json.loads((layout / "index.json").read_bytes())
            (layout / "index.json").write_bytes(data.draw(one_field_replaced("index", index)))
        else:  # the manifest blob, re-pointed so that its digest still matches
            index = json.loads((layout / "index.json").read_bytes())
            real = (layout / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes()
            blob = data.draw(one_field_replaced("manifest", json.loads(real)))
            digest = hashlib.sha256(blob).hexdigest()
            (layout / "blobs" / "sha256" / digest).write_bytes(blob)
            index["manifests"][0].update(digest=f"sha256:{digest}", size=len(blob))
            (layout / "index.json").write_text(json.dumps(index))
        with contextlib.suppress(ImagevetError):
            open_target(f"oci:{layout}").close()
    finally:
        shutil.rmtree(folder)


@FEW
@given(one_field_replaced("docker", DOCKER_MANIFEST))
def test_docker_archives_with_a_fuzzed_manifest(manifest: bytes) -> None:
    folder = Path(tempfile.mkdtemp(prefix="imagevet-fuzz-"))
    try:
        archive = make_docker_archive([LAYER], folder / "image.tar", manifest=json.loads(manifest))
        with contextlib.suppress(ImagevetError):
            open_target(f"docker-archive:{archive}").close()
    finally:
        shutil.rmtree(folder)
