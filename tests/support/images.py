"""Pack a root filesystem the way users receive images: docker-archive, OCI layout, rootfs tarball.

Written by the tests themselves, following the formats' specifications (Docker's `docker save` layout:
manifest.json + config + layer tarballs, in the legacy ``ID/layer.tar`` form or Docker 25's
``blobs/sha256/HEX`` form; the OCI image-layout spec: oci-layout, index.json and content-addressed
blobs), with GNU tar headers as Go's archive/tar writes them. The configs carry ``rootfs.diff_ids`` as
docker and buildkit write them.

The hostile helpers at the end start from headers Python's tarfile writes and change single fields
(re-computing the checksum, so only the intended field is wrong).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
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


def with_diff_ids(config: dict[str, object] | None, layers: list[bytes]) -> dict[str, object]:
    """The config with rootfs.diff_ids of the (uncompressed) layers, unless it has a rootfs already."""
    base = dict(config or CONFIG)
    base.setdefault("rootfs", {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]})
    return base


def make_docker_archive(
    layers: list[bytes],
    out: Path,
    config: dict[str, object] | None = None,
    layout: str = "legacy",
    manifest: object = None,
) -> Path:
    """``layout="legacy"``: ``HEX.json`` and ``ID/layer.tar`` (docker before 25); ``"blobs"``: Docker 25's
    ``blobs/sha256/HEX`` with ``ID/layer.tar`` kept as a symbolic link to the blob. ``manifest``
    replaces manifest.json's content (for hostile cases)."""
    config_bytes = json.dumps(with_diff_ids(config, layers)).encode()
    links: list[tuple[str, str]] = []
    if layout == "blobs":
        config_name = f"blobs/sha256/{hashlib.sha256(config_bytes).hexdigest()}"
        names = [f"blobs/sha256/{hashlib.sha256(layer).hexdigest()}" for layer in layers]
        links = [(f"{hashlib.sha256(name.encode()).hexdigest()}/layer.tar", f"../{name}") for name in names]
    else:
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
    document = (
        manifest
        if manifest is not None
        else [{"Config": config_name, "RepoTags": ["imagevet/test:latest"], "Layers": names}]
    )
    with tarfile.open(out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in [
            ("manifest.json", json.dumps(document).encode()),
            (config_name, config_bytes),
            *zip(names, layers, strict=True),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
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
    config_bytes = json.dumps(with_diff_ids(config, layers)).encode()
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


# ---- hostile tar headers ----------------------------------------------------------------------------
def checksummed(header: bytes | bytearray) -> bytes:
    """A 512-byte header with its checksum field recomputed (so only the field a test changed is wrong)."""
    block = bytearray(header)
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def header(
    name: str = "etc/file",
    kind: bytes = tarfile.REGTYPE,
    size: int = 0,
    fields: dict[str, bytes] | None = None,
) -> bytes:
    """One ustar header written by tarfile, then ``fields`` (``{"size": b"..."}``: mode, uid, gid or size)
    overwritten in place."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mtime = 0
    block = bytearray(info.tobuf(format=tarfile.USTAR_FORMAT)[:512])
    offsets = {"mode": (100, 108), "uid": (108, 116), "gid": (116, 124), "size": (124, 136)}
    for field, value in (fields or {}).items():
        start, end = offsets[field]
        block[start:end] = value.ljust(end - start, b"\0")[: end - start]
    return checksummed(block)


def pax_header(records: bytes, kind: bytes = b"x") -> bytes:
    """A PAX extended header block (``x`` or global ``g``) whose record area is ``records`` verbatim."""
    block = bytearray(header("PaxHeaders/0", kind=tarfile.REGTYPE, size=len(records)))
    block[156:157] = kind
    return checksummed(block) + records.ljust((len(records) + 511) // 512 * 512, b"\0")


def pax_record(key: str, value: bytes) -> bytes:
    """One well-formed PAX record ``LENGTH KEY=VALUE\n``."""
    body = b" " + key.encode() + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


END = bytes(1024)


def header_bomb(count: int, unique: bool = True) -> bytes:
    """A tar of nothing but ``count`` empty-file headers (the shape of an entry-count bomb)."""
    template = bytearray(header("x"))
    blocks = []
    for i in range(count):
        block = bytearray(template)
        block[0:100] = (f"d{i // 1000}/f{i}" if unique else "same").encode().ljust(100, b"\0")
        blocks.append(checksummed(block))
    return b"".join(blocks) + END
