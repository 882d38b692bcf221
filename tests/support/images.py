"""Pack a root filesystem the way users receive images: docker-archive, OCI layout, rootfs tarball.

Written by the tests themselves, following the formats' specifications (Docker's `docker save` layout:
manifest.json + config + layer tarballs; the OCI image-layout spec: oci-layout, index.json and
content-addressed blobs), with GNU tar headers as Go's archive/tar writes them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "config": {"User": "", "Env": ["PATH=/usr/sbin:/usr/bin"], "Cmd": ["/bin/bash"]},
    "history": [{"created_by": "debootstrap --variant=minbase bookworm"}],
}


def layer_bytes(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for path in sorted(root.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_docker_archive(layers: list[bytes], out: Path, config: dict[str, object] | None = None) -> Path:
    config_bytes = json.dumps(config or CONFIG).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
    manifest = [{"Config": config_name, "RepoTags": ["imagevet/test:latest"], "Layers": names}]
    with tarfile.open(out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in [
            ("manifest.json", json.dumps(manifest).encode()),
            (config_name, config_bytes),
            *zip(names, layers, strict=True),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out


def make_oci_layout(
    layers: list[bytes], out: Path, tag: str = "latest", config: dict[str, object] | None = None
) -> Path:
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = _digest(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    compressed = [gzip.compress(layer, compresslevel=1, mtime=0) for layer in layers]
    config_bytes = json.dumps(config or CONFIG).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": put(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": put(data),
                "size": len(data),
            }
            for data in compressed
        ],
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": put(manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (out / "index.json").write_text(json.dumps(index))
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return out


def tar_of(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A layer from hand-made members (for whiteouts and hostile cases)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_entry(name: str, text: str) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), text.encode()


def special_entry(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None
