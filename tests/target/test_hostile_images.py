"""Hostile docker-archives and OCI layouts (issue 15, item 3): wrong JSON types in manifests, configs and
indexes, digests and sizes that do not match, blobs that are links, FIFOs or leave the layout, truncated
outer archives. Each is made here from a real image packed by tests/support/images.py, then changed in
one place; each is refused through the CLI with one line naming the file, without echoing it."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imagevet.target import open_target
from tests.support.images import (
    INDEX_TYPE,
    file_entry,
    make_docker_archive,
    make_oci_layout,
    special_entry,
    tar_of,
)
from tests.target.refusal import MARK, assert_refused

OS_RELEASE = "ID=debian\nVERSION_ID=12\n"


def layer() -> bytes:
    return tar_of([file_entry("etc/os-release", OS_RELEASE), file_entry("etc/motd", "hello\n")])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- docker-archive -------------------------------------------------------------------------------
def docker(
    tmp: Path, manifest: object, files: dict[str, bytes] | None = None, raw: bytes | None = None
) -> Path:
    """An outer tar holding manifest.json (``manifest`` as JSON, or ``raw`` bytes) and ``files``."""
    entries = [(tarfile.TarInfo("manifest.json"), raw if raw is not None else json.dumps(manifest).encode())]
    entries += [(tarfile.TarInfo(name), data) for name, data in (files or {}).items()]
    out = tmp / "image.tar"
    out.write_bytes(tar_of(entries))
    return out


def _config(diff_ids: list[str] | None = None, **changes: Any) -> bytes:
    document: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": "", "Env": ["PATH=/usr/bin"], "Labels": {"x": MARK}},
        "rootfs": {
            "type": "layers",
            "diff_ids": diff_ids if diff_ids is not None else ["sha256:" + sha(layer())],
        },
    }
    document.update(changes)
    return json.dumps(document).encode()


def _valid_files() -> dict[str, bytes]:
    config = _config()
    return {f"{sha(config)}.json": config, "aaaa/layer.tar": layer()}


def _item(**changes: Any) -> list[dict[str, Any]]:
    config = _config()
    item: dict[str, Any] = {"Config": f"{sha(config)}.json", "RepoTags": [MARK], "Layers": ["aaaa/layer.tar"]}
    item.update(changes)
    return [item]


DOCKER_MANIFESTS: dict[str, tuple[object, str]] = {
    "manifest is an object": ({"Config": MARK}, "manifest.json: the document is not a list"),
    "manifest is empty": ([], "lists no image"),
    "image is a number": ([7], "manifest.json: [0] is not an object"),
    "Layers is an object": (_item(Layers={"a": MARK}), "[0].Layers is not a list"),
    "Layers holds numbers": (_item(Layers=["aaaa/layer.tar", 2]), "[0].Layers[1] is not a string"),
    "Layers is empty": (_item(Layers=[]), "[0].Layers lists no layers"),
    "Config is missing": ([{"Layers": ["aaaa/layer.tar"]}], "[0].Config is not a string"),
    "Config is a number": (_item(Config=7), "[0].Config is not a string"),
    "RepoTags is a string": (_item(RepoTags=MARK), "[0].RepoTags is not a list"),
    "layer leaves the archive": (_item(Layers=["../../../../etc/passwd"]), "layer 1 of 1 is missing"),
    "layer is missing": (_item(Layers=[f"{MARK}/layer.tar"]), "layer 1 of 1 is missing"),
    "config is missing": (_item(Config=f"{MARK}.json"), "the image config is missing"),
}


@pytest.mark.parametrize("case", list(DOCKER_MANIFESTS))
def test_docker_manifest_with_wrong_types_is_refused(tmp_path: Path, case: str) -> None:
    manifest, problem = DOCKER_MANIFESTS[case]
    archive = docker(tmp_path, manifest, _valid_files())
    assert_refused(f"docker-archive:{archive}", archive, problem)


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    return special_entry(name, kind, target)


DOCKER_ARCHIVES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "manifest is not JSON": (
        lambda t: docker(t, None, _valid_files(), raw=b"[{" + MARK.encode()),
        "not valid JSON",
    ),
    "manifest nested 100,000 deep": (
        lambda t: docker(t, None, _valid_files(), raw=b"[" * 100_000),
        "nested too deeply",
    ),
    "manifest is 5 MB": (lambda t: docker(t, None, _valid_files(), raw=b" " * (5 << 20)), "larger than"),
    "manifest has 300,000 arrays": (
        lambda t: docker(t, None, _valid_files(), raw=b"[]," * 300_000),
        "arrays",
    ),
    "manifest is a link outside": (
        lambda t: _write(t, tar_of([_link("manifest.json", "/etc/passwd")])),
        "manifest.json is missing from the archive",
    ),
    "manifest is a directory": (
        lambda t: _write(t, tar_of([special_entry("manifest.json", tarfile.DIRTYPE)])),
        "manifest.json is not a regular file",
    ),
    "layer is a link loop": (
        lambda t: _write(
            t,
            tar_of(
                [
                    (tarfile.TarInfo("manifest.json"), json.dumps(_item()).encode()),
                    *[(tarfile.TarInfo(n), d) for n, d in _valid_files().items() if n.endswith(".json")],
                    _link("aaaa/layer.tar", "loop"),
                    _link("aaaa/loop", "layer.tar"),
                ]
            ),
        ),
        "more than 8 links",
    ),
    "layer changed after the config was written": (
        lambda t: docker(
            t, _item(), {**_valid_files(), "aaaa/layer.tar": tar_of([file_entry("etc/os-release", MARK)])}
        ),
        "does not match its diff_id",
    ),
    "diff_ids fewer than layers": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": _config([]), "aaaa/layer.tar": layer()},
        ),
        "rootfs.diff_ids do not match",
    ),
    "diff_ids not digests": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": _config([MARK]), "aaaa/layer.tar": layer()},
        ),
        "rootfs.diff_ids[0] is not a sha256",
    ),
    "config named by a digest it does not have": (
        lambda t: docker(
            t,
            [{"Config": f"{'0' * 64}.json", "Layers": ["aaaa/layer.tar"]}],
            {f"{'0' * 64}.json": _config(), "aaaa/layer.tar": layer()},
        ),
        "image config: content does not match its digest",
    ),
    "config User is a number": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": _config(config={"User": 0}), "aaaa/layer.tar": layer()},
        ),
        "config.User is not a string",
    ),
    "config Env holds numbers": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": _config(config={"Env": [1]}), "aaaa/layer.tar": layer()},
        ),
        "config.Env[0] is not a string",
    ),
    "config history is an object": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": _config(history={}), "aaaa/layer.tar": layer()},
        ),
        "history is not a list",
    ),
    "config is a list": (
        lambda t: docker(
            t,
            [{"Config": "c.json", "Layers": ["aaaa/layer.tar"]}],
            {"c.json": b"[1]", "aaaa/layer.tar": layer()},
        ),
        "image config: the document is not an object",
    ),
    "outer archive truncated": (
        lambda t: _write(t, make_docker_archive([layer()], t / "full.tar").read_bytes()[:3000]),
        "truncated",
    ),
    "outer archive has an entry outside": (
        lambda t: _write(t, tar_of([file_entry(f"../{MARK}", "x")])),
        "has a path outside the archive",
    ),
}


def _write(tmp: Path, data: bytes) -> Path:
    (tmp / "image.tar").write_bytes(data)
    return tmp / "image.tar"


@pytest.mark.parametrize("case", list(DOCKER_ARCHIVES))
def test_hostile_docker_archive_is_refused(tmp_path: Path, case: str) -> None:
    make, problem = DOCKER_ARCHIVES[case]
    archive = make(tmp_path)
    assert_refused(f"docker-archive:{archive}", archive, problem)


@pytest.mark.parametrize("layout", ["legacy", "blobs"])
def test_docker_archives_of_both_layouts_open_and_verify(tmp_path: Path, layout: str) -> None:
    """Legacy ``ID/layer.tar`` and Docker 25's ``blobs/sha256/HEX`` (with ``ID/layer.tar`` links)."""
    archive = make_docker_archive([layer()], tmp_path / "image.tar", layout=layout)
    target = open_target(f"docker-archive:{archive}")
    try:
        assert target.read_text("/etc/os-release") == OS_RELEASE
    finally:
        target.close()


def test_docker_archive_layer_through_a_link(tmp_path: Path) -> None:
    """manifest.json names the legacy link; it is followed inside the archive to the blob."""
    data = layer()
    config = _config()
    blob = f"blobs/sha256/{sha(data)}"
    archive = _write(
        tmp_path,
        tar_of(
            [
                (
                    tarfile.TarInfo("manifest.json"),
                    json.dumps([{"Config": "c.json", "Layers": ["x/layer.tar"]}]).encode(),
                ),
                (tarfile.TarInfo("c.json"), config),
                (tarfile.TarInfo(blob), data),
                _link("x/layer.tar", f"../{blob}"),
            ]
        ),
    )
    target = open_target(f"docker-archive:{archive}")
    try:
        assert target.read_text("/etc/os-release") == OS_RELEASE
    finally:
        target.close()


# ---- OCI layouts ------------------------------------------------------------------------------------
def oci(tmp: Path) -> Path:
    return make_oci_layout([layer()], tmp / "oci", tag="v1")


def _load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _put(layout: Path, data: bytes) -> str:
    (layout / "blobs" / "sha256" / sha(data)).write_bytes(data)
    return "sha256:" + sha(data)


def _manifest_path(layout: Path) -> Path:
    digest = _load(layout / "index.json")["manifests"][0]["digest"]
    return layout / "blobs" / "sha256" / digest.split(":")[1]


def set_index(layout: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    index = _load(layout / "index.json")
    change(index)
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def set_manifest(layout: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Change the manifest and re-point index.json at it (new digest and size): only the change is wrong."""
    manifest = _load(_manifest_path(layout))
    change(manifest)
    data = json.dumps(manifest).encode()
    digest = _put(layout, data)

    def point(index: dict[str, Any]) -> None:
        index["manifests"][0].update(digest=digest, size=len(data))

    return set_index(layout, point)


def set_config(layout: Path, data: bytes) -> Path:
    digest = _put(layout, data)

    def point(manifest: dict[str, Any]) -> None:
        manifest["config"].update(digest=digest, size=len(data))

    return set_manifest(layout, point)


def _layer_blob(layout: Path) -> Path:
    digest = _load(_manifest_path(layout))["layers"][0]["digest"]
    return layout / "blobs" / "sha256" / digest.split(":")[1]


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _symlink_to_copy(path: Path) -> None:
    """The blob moved outside the layout, a link left in its place (same bytes: only the link is wrong)."""
    outside = path.parent.parent.parent.parent / f"outside-{path.name}"
    path.rename(outside)
    path.symlink_to(outside)


def _move_and_link(directory: Path) -> None:
    outside = directory.parent.parent / f"outside-{directory.name}"
    directory.rename(outside)
    directory.symlink_to(outside)


def _tamper(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _nested(layout: Path, depth: int) -> Path:
    descriptor = _load(layout / "index.json")["manifests"][0]
    for _ in range(depth):
        data = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [descriptor]}).encode()
        descriptor = {"mediaType": INDEX_TYPE, "digest": _put(layout, data), "size": len(data)}
    return set_index(layout, lambda index: index.update(manifests=[descriptor]))


def _m0(index: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = index["manifests"][0]
    return entry


OCI_CASES: dict[str, tuple[Callable[[Path], object], str]] = {
    "index manifests is an object": (
        lambda lay: set_index(lay, lambda i: i.update(manifests={"a": MARK})),
        "index.json: manifests is not a list",
    ),
    "index manifests holds a string": (
        lambda lay: set_index(lay, lambda i: i.update(manifests=[MARK])),
        "index.json: manifests[0] is not an object",
    ),
    "index digest missing": (
        lambda lay: set_index(lay, lambda i: _m0(i).pop("digest")),
        "manifests[0].digest is not",
    ),
    "index digest leaves the layout": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(digest="sha256:../../../../etc/passwd")),
        "manifests[0].digest is not a sha256 or sha512 digest",
    ),
    "index digest in upper case": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(digest=_m0(i)["digest"].upper())),
        "manifests[0].digest is not",
    ),
    "index size negative": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(size=-1)),
        "size is not a non-negative",
    ),
    "index size a boolean": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(size=True)),
        "size is not a non-negative",
    ),
    "index size a string": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(size="12")),
        "size is not a non-negative",
    ),
    "index size wrong": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(size=_m0(i)["size"] + 1)),
        "its descriptor says",
    ),
    "index schemaVersion 1": (
        lambda lay: set_index(lay, lambda i: i.update(schemaVersion=1)),
        "schemaVersion is not 2",
    ),
    "index annotations a list": (
        lambda lay: set_index(lay, lambda i: _m0(i).update(annotations=[MARK])),
        "manifests[0].annotations is not an object",
    ),
    "index.json not JSON": (
        lambda lay: (lay / "index.json").write_text("{" + MARK),
        "index.json is not valid JSON",
    ),
    "index.json a link": (lambda lay: _symlink_to_copy(lay / "index.json"), "index.json is a symbolic link"),
    "index.json a FIFO": (
        lambda lay: _replace_with_fifo(lay / "index.json"),
        "index.json is not a regular file",
    ),
    "oci-layout missing": (lambda lay: (lay / "oci-layout").unlink(), "not an OCI image layout"),
    "oci-layout wrong type": (
        lambda lay: (lay / "oci-layout").write_text(json.dumps({"imageLayoutVersion": 1})),
        "imageLayoutVersion is not a string",
    ),
    "manifest blob a link": (lambda lay: _symlink_to_copy(_manifest_path(lay)), "is a symbolic link"),
    "manifest blob a FIFO": (lambda lay: _replace_with_fifo(_manifest_path(lay)), "is not a regular file"),
    "manifest blob missing": (lambda lay: _manifest_path(lay).unlink(), "is missing"),
    "manifest tampered": (lambda lay: _tamper(_manifest_path(lay)), "content does not match its digest"),
    "blobs directory a link": (lambda lay: _move_and_link(lay / "blobs"), "blobs/ is a symbolic link"),
    "blobs/sha256 a link": (
        lambda lay: _move_and_link(lay / "blobs" / "sha256"),
        "blobs/sha256 is a symbolic link",
    ),
    "layer blob a link": (lambda lay: _symlink_to_copy(_layer_blob(lay)), "is a symbolic link"),
    "layer blob a FIFO": (lambda lay: _replace_with_fifo(_layer_blob(lay)), "is not a regular file"),
    "layer blob a directory": (
        lambda lay: (_layer_blob(lay).unlink(), _layer_blob(lay).mkdir()),
        "is not a regular file",
    ),
    "layer tampered": (lambda lay: _tamper(_layer_blob(lay)), "layer 1 of 1"),
    "config tampered": (
        lambda lay: _tamper(
            lay / "blobs" / "sha256" / _load(_manifest_path(lay))["config"]["digest"].split(":")[1]
        ),
        "image config: content does not match its digest",
    ),
    "layers an object": (
        lambda lay: set_manifest(lay, lambda m: m.update(layers={"a": MARK})),
        "layers is not a list",
    ),
    "layers empty": (lambda lay: set_manifest(lay, lambda m: m.update(layers=[])), "lists no layers"),
    "layer digest a number": (
        lambda lay: set_manifest(lay, lambda m: m["layers"][0].update(digest=7)),
        "layers[0].digest is not a sha256",
    ),
    "layer size wrong": (
        lambda lay: set_manifest(lay, lambda m: m["layers"][0].update(size=m["layers"][0]["size"] - 1)),
        "its descriptor says",
    ),
    "config missing": (lambda lay: set_manifest(lay, lambda m: m.pop("config")), "config is not an object"),
    "config not an image config": (
        lambda lay: set_manifest(
            lay, lambda m: m["config"].update(mediaType="application/vnd.oci.empty.v1+json")
        ),
        "not a container image config",
    ),
    "manifest claims to be an index": (
        lambda lay: set_manifest(lay, lambda m: m.update(mediaType=INDEX_TYPE)),
        "mediaType differs from the descriptor",
    ),
    "manifest not an object": (
        lambda lay: _rewrite_raw_manifest(lay, b"[" + json.dumps(MARK).encode() + b"]"),
        "not an object",
    ),
    "indexes nested 5 deep": (lambda lay: _nested(lay, 5), "nested more than 4 deep"),
    "config diff_ids do not match": (
        lambda lay: set_config(lay, _config(["sha256:" + "0" * 64])),
        "does not match its diff_id",
    ),
    "config diff_ids too many": (
        lambda lay: set_config(lay, _config(["sha256:" + sha(layer())] * 2)),
        "rootfs.diff_ids do not match",
    ),
    "config Cmd an object": (
        lambda lay: set_config(lay, _config(config={"Cmd": {"a": MARK}})),
        "config.Cmd is not a list",
    ),
}


def _rewrite_raw_manifest(layout: Path, data: bytes) -> Path:
    digest = _put(layout, data)
    return set_index(layout, lambda index: _m0(index).update(digest=digest, size=len(data)))


@pytest.mark.parametrize("case", list(OCI_CASES))
def test_hostile_oci_layout_is_refused(tmp_path: Path, case: str) -> None:
    change, problem = OCI_CASES[case]
    layout = oci(tmp_path)
    change(layout)
    assert_refused(f"oci:{layout}", layout, problem, within=30)  # a FIFO must not hang the open


def test_genuine_layout_with_nested_index_opens(tmp_path: Path) -> None:
    layout = _nested(oci(tmp_path), 2)
    target = open_target(f"oci:{layout}")
    try:
        assert target.read_text("/etc/os-release") == OS_RELEASE
    finally:
        target.close()
