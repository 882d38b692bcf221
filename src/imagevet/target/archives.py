"""Container image archives: ``docker save`` tarballs, OCI image layouts, and plain rootfs tarballs.

Each becomes a LayeredTarget; the image configuration (user, entrypoint, env, history) is kept on the
target for reporting and for container checks.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from imagevet.errors import TargetError
from imagevet.model import TargetInfo
from imagevet.target.layers import LayeredTarget, Window

MAX_JSON_BYTES = 16 * 1024 * 1024


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TargetError(f"{what} is not valid JSON") from exc


def _workdir() -> str:
    return tempfile.mkdtemp(prefix="imagevet-target-")


def open_docker_archive(spec: str, path: Path) -> LayeredTarget:
    """A ``docker save`` archive: manifest.json names the config and the layers, bottom first."""
    try:
        outer = tarfile.open(path, mode="r:")  # noqa: SIM115 (kept open: layers are read from it later)
    except (tarfile.TarError, OSError) as exc:
        raise TargetError(f"{path}: not a docker-archive tarball ({exc})") from exc
    members = {m.name.lstrip("./") if m.name.startswith("./") else m.name: m for m in outer.getmembers()}

    def read(name: str) -> bytes:
        member = members.get(name)
        if member is None or not member.isreg() or member.size > MAX_JSON_BYTES:
            raise TargetError(f"{path}: {name} is missing from the archive")
        handle = outer.extractfile(member)
        assert handle is not None
        return handle.read()

    manifest = _json(read("manifest.json"), f"{path}: manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise TargetError(f"{path}: manifest.json lists no image")
    image = manifest[0]
    target = LayeredTarget(TargetInfo(spec, "docker-archive"), _workdir())
    try:
        if isinstance(image.get("Config"), str):
            target.config = _json(read(image["Config"]), f"{path}: image config")
        raw: Any = outer.fileobj
        assert raw is not None
        target.resources.append(raw)
        for layer_name in image.get("Layers") or []:
            member = members.get(layer_name)
            if member is None or not member.isreg():
                raise TargetError(f"{path}: layer {layer_name} is missing from the archive")
            window = io.BufferedReader(Window(raw, member.offset_data, member.size))
            target.add_layer(window, f"{path}:{layer_name}")
    except BaseException:
        target.close()
        raise
    return target


def open_oci_layout(spec: str, path: Path, reference: str | None) -> LayeredTarget:
    """An OCI image layout directory; ``reference`` picks a tag (ref.name annotation) or a digest."""
    if not (path / "oci-layout").is_file() or not (path / "index.json").is_file():
        raise TargetError(f"{path}: not an OCI image layout (no oci-layout / index.json)")

    def blob(digest: str) -> Path:
        algorithm, _, value = digest.partition(":")
        if algorithm not in ("sha256", "sha512") or not value.isalnum():
            raise TargetError(f"{path}: malformed digest {digest!r}")
        return path / "blobs" / algorithm / value

    def load(digest: str, what: str) -> Any:
        file = blob(digest)
        if not file.is_file() or file.stat().st_size > MAX_JSON_BYTES:
            raise TargetError(f"{path}: {what} blob {digest} is missing")
        return _json(file.read_bytes(), f"{path}: {what}")

    index = _json((path / "index.json").read_bytes(), f"{path}/index.json")
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not manifests:
        raise TargetError(f"{path}: index.json lists no manifest")
    chosen = manifests[0]
    if reference:
        matches = [
            m
            for m in manifests
            if isinstance(m, dict)
            and (
                m.get("digest") == reference
                or (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == reference
            )
        ]
        if not matches:
            raise TargetError(f"{path}: no image {reference!r} in the layout")
        chosen = matches[0]
    manifest = load(chosen["digest"], "manifest")
    if manifest.get("mediaType", "").endswith("image.index.v1+json") or "manifests" in manifest:
        manifest = load(manifest["manifests"][0]["digest"], "manifest")  # a nested index: first platform
    target = LayeredTarget(TargetInfo(spec, "oci"), _workdir())
    try:
        config = manifest.get("config") or {}
        if isinstance(config.get("digest"), str):
            target.config = load(config["digest"], "image config")
        for layer in manifest.get("layers") or []:
            file = blob(layer["digest"])
            if not file.is_file():
                raise TargetError(f"{path}: layer blob {layer['digest']} is missing")
            target.add_layer(file.open("rb"), f"{path}:{layer['digest']}")
    except BaseException:
        target.close()
        raise
    return target


def open_tarball(spec: str, path: Path) -> LayeredTarget:
    """A root filesystem tarball (optionally gzip or zstd compressed) as a single layer."""
    if not path.is_file():
        raise TargetError(f"{path}: no such file")
    target = LayeredTarget(TargetInfo(spec, "tar"), _workdir())
    try:
        target.add_layer(path.open("rb"), str(path))
    except BaseException:
        target.close()
        raise
    return target
