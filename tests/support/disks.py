"""Make disk images of a root filesystem without mounting: sfdisk partitions a sparse file, mkfs.ext4 -d
fills the partition from the directory (at its byte offset), qemu-img converts to qcow2 or vmdk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.model import SourceInfo
from imagevet.target import open_target
from imagevet.target.blocks import RemoteOptions
from tests.conftest import AS_OF_DAY
from tests.support.debian_root import cache_root, fixture_key

TOOLS = ("sfdisk", "mkfs.ext4", "qemu-img")


def disk_tools_available() -> bool:
    return all(shutil.which(tool) for tool in TOOLS)


def sparse_file(path: Path, size_mib: int) -> Path:
    path.unlink(missing_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size_mib * 1024 * 1024)
    return path


def make_disk(root: Path, out: Path, label: str = "gpt", size_mib: int = 1200, fmt: str = "qcow2") -> Path:
    raw = sparse_file(out.with_suffix(".raw"), size_mib)
    layout = "label: gpt\n,1MiB\n,,L\n" if label == "gpt" else "label: dos\n,,83\n"
    subprocess.run(["sfdisk", "-q", str(raw)], input=layout, text=True, check=True, capture_output=True)
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(raw)], capture_output=True, text=True, check=True).stdout
    )
    partition = table["partitiontable"]["partitions"][-1]
    offset = partition["start"] * 512
    blocks = partition["size"] * 512 // 4096
    subprocess.run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-b",
            "4096",
            "-E",
            f"offset={offset}",
            "-d",
            str(root),
            str(raw),
            str(blocks),
        ],
        check=True,
        capture_output=True,
    )
    if fmt == "raw":
        return raw
    subprocess.run(["qemu-img", "convert", "-O", fmt, str(raw), str(out)], check=True, capture_output=True)
    raw.unlink()
    return out


LVM_TOOLS = ("losetup", "pvcreate", "vgcreate", "vgcfgbackup", "vgcfgrestore")

_LOGICAL_VOLUME = """
	logical_volumes {{

		root {{
			id = "imgvet-test-lvol-0000-0000-0000-000001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1

			segment1 {{
				start_extent = 0
				extent_count = {extents}

				type = "striped"
				stripe_count = 1

				stripes = [
					"pv0", 0
				]
			}}
		}}
	}}
"""


def make_lvm_disk(root: Path, out: Path, size_mib: int = 200) -> Path:
    """A bare LVM2 physical volume holding one linear logical volume with an ext4 filesystem.

    This machine's kernel has no device-mapper, so the logical volume is written as metadata only
    (vgcfgrestore of a hand-extended vgcfgbackup) and the filesystem is made at its byte offset.
    """
    sparse_file(out, size_mib)
    group = f"imgvet{out.stat().st_ino % 100000}"
    device = subprocess.run(
        ["losetup", "-f", "--show", str(out)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        subprocess.run(["pvcreate", "-q", device], check=True, capture_output=True)
        subprocess.run(["vgcreate", "-q", group, device], check=True, capture_output=True)
        backup = out.with_suffix(".vg")
        subprocess.run(["vgcfgbackup", "-q", "-f", str(backup), group], check=True, capture_output=True)
        text = backup.read_text()
        extents = (size_mib - 8) // 4
        end = text.rindex("}")
        backup.write_text(text[:end] + _LOGICAL_VOLUME.format(extents=extents) + text[end:])
        subprocess.run(["vgcfgrestore", "-q", "-f", str(backup), group], capture_output=True)
        subprocess.run(["vgchange", "-an", group], capture_output=True)
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True)
        subprocess.run(["vgscan", "--cache"], capture_output=True)
    subprocess.run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-b",
            "4096",
            "-E",
            "offset=1048576",
            "-d",
            str(root),
            str(out),
            str(extents * 1024),
        ],
        check=True,
        capture_output=True,
    )
    return out


def make_xfs(files: dict[str, str], out: Path, work: Path) -> Path:
    """A bare XFS filesystem populated through an mkfs.xfs prototype file (no mounting needed)."""
    work.mkdir(parents=True, exist_ok=True)
    tree: dict[str, object] = {}
    for path, content in files.items():
        *directories, name = path.strip("/").split("/")
        node = tree
        for directory in directories:
            node = node.setdefault(directory, {})  # type: ignore[assignment]
        source = work / path.strip("/").replace("/", "_")
        source.write_text(content)
        node[name] = str(source)

    def emit(node: dict[str, object]) -> list[str]:
        lines: list[str] = []
        for name, value in node.items():
            if isinstance(value, dict):
                lines += [f"{name} d--755 0 0", *emit(value), "$"]
            else:
                lines.append(f"{name} ---644 0 0 {value}")
        return lines

    lines = ["/dev/null", "0 0", "d--755 0 0", *emit(tree), "$"]
    proto = work / "proto"
    proto.write_text("\n".join(lines) + "\n")
    sparse_file(out, 320)
    subprocess.run(["mkfs.xfs", "-q", "-f", "-p", str(proto), str(out)], check=True, capture_output=True)
    return out


def audit_statuses(
    spec: str, remote: RemoteOptions | None = None, checks: list[str] | None = None
) -> tuple[dict[str, str], SourceInfo | None]:
    """Every check's status for the target ``spec`` (as of AS_OF_DAY), and for a remote image what reading
    it cost, taken once the target is closed (as the CLI does): blocks read ahead have then arrived. The
    disk tests compare these with the statuses of the directory the disk was made from."""
    target = open_target(spec, None, remote)
    try:
        report = run_audit(target, CheckOptions(AS_OF_DAY), list(CHECKS) if checks is None else checks)
    finally:
        target.close()
    return {r.check: r.status.value for r in report.results}, target.info.source


def configuration_checks() -> list[str]:
    """Every check but the walk of every file: the remote disks' read budgets (5% of an AMI, 10% of a
    qcow2 by URL) bound what reading the configuration costs. The walk reads every inode table and
    directory as well (5.6% and 28% more of the two test images, docs/benchmarks.md); its verdicts on a
    disk are compared with the directory's by the local disk tests."""
    from imagevet.checks.file_walk import WALK_CHECKS

    return [check for check in CHECKS if check not in WALK_CHECKS]


def cached_debian_disk(root: Path, fmt: str = "qcow2") -> Path:
    """The Debian root as a 1200 MiB GPT disk of format ``fmt``, built once and cached beside the root
    (keyed like it), renamed into place only when complete."""
    folder = cache_root() / f"debian12-{fixture_key()}" / "disks"
    disk = folder / f"gpt.{fmt}"
    if not disk.exists():
        folder.mkdir(parents=True, exist_ok=True)
        make_disk(root, folder / f"gpt.partial.{fmt}", fmt=fmt).rename(disk)
    return disk
