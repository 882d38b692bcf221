"""VM disk images (qcow2, VMDK, VHD, VHDX, raw) read without root, mounting or an appliance, from a local
file or a remote block stream (an AMI's EBS snapshot, an HTTP URL: remote.py).

Uses Fox-IT's dissect libraries (pure Python): dissect.hypervisor for qcow2, VMDK, VHD and VHDX,
dissect.volume for MBR/GPT partition tables and LVM2, dissect.extfs and dissect.xfs for the filesystems.
They are licensed AGPL-3.0, so they are an optional extra (``pip install 'imagevet[disk]'``); imagevet
itself only calls them. The root filesystem is the one that holds ``/etc/os-release`` (or
``/usr/lib/os-release``). Everything is read-only: the image file is opened for reading and nothing is
written.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from imagevet.errors import TargetError
from imagevet.model import SourceInfo, TargetInfo, Unknown
from imagevet.target.confined import DIR, FILE, LINK, OTHER, ConfinedTarget, Node
from imagevet.target.diskcheck import (
    NEEDS_PARENT,
    SECTOR,
    check_filesystem,
    check_gpt,
    check_inside,
    check_qcow2,
    check_vmdk_sparse,
    vmdk_descriptor,
)
from imagevet.target.diskcheck_vhd import VHDX_SIGNATURE, check_vhd, check_vhdx, looks_like_vhd
from imagevet.target.files import open_regular

QCOW2_MAGIC = b"QFI\xfb"
VMDK_MAGIC = b"KDMV"
LVM_LABEL = b"LABELONE"


def _import_dissect() -> Any:
    try:
        from dissect.extfs import ExtFS
        from dissect.hypervisor.disk.qcow2 import QCow2
        from dissect.hypervisor.disk.vmdk import VMDK
        from dissect.volume.disk import Disk
        from dissect.volume.lvm import LVM2
        from dissect.xfs import XFS
    except ImportError as exc:
        raise TargetError(
            "disk images need the disk extra (AGPL dissect modules): pip install 'imagevet[disk]'"
        ) from exc
    return ExtFS, QCow2, VMDK, Disk, LVM2, XFS


def _looks_like_vmdk_descriptor(head: bytes) -> bool:
    return b"# Disk DescriptorFile" in head[:1024]


class _Volume(NamedTuple):
    """A volume, and where it lies: at ``offset`` of ``base`` (the disk for a partition or a whole-disk
    filesystem; the volume itself for an LVM logical volume), which holds ``limit`` bytes."""

    stream: IO[bytes]
    base: IO[bytes]
    offset: int
    limit: int


def _volumes(stream: IO[bytes], disk_cls: Any, lvm_cls: Any, disk_size: int) -> list[_Volume]:
    """The partitions of a disk (and the logical volumes of any LVM2 physical volumes on them); every
    partition must end inside the disk."""
    try:
        found = list(disk_cls(stream).partitions)
    except Exception:  # no partition table: the whole stream is one volume
        found = []
    partitions: list[_Volume] = []
    for number, partition in enumerate(found, start=1):
        offset = int(partition.offset)
        check_inside(number, offset, int(partition.size), disk_size)
        partitions.append(_Volume(partition.open(), stream, offset, disk_size))
    if not partitions:
        stream.seek(0)
        partitions = [_Volume(stream, stream, 0, disk_size)]
    volumes: list[_Volume] = []
    physical: list[IO[bytes]] = []
    for volume in partitions:
        volume.stream.seek(512)
        if volume.stream.read(8) == LVM_LABEL:
            physical.append(volume.stream)
        else:
            volumes.append(volume)
        volume.stream.seek(0)
    if physical:
        try:
            lvm = lvm_cls(physical)
            logical = [lv.open() for lv in lvm.volume_group.logical_volumes.values()]
        except Exception as exc:  # report LVM trouble, keep the other partitions
            raise TargetError(f"cannot read the LVM volume group ({exc.__class__.__name__})") from exc
        volumes += [_Volume(lv, lv, 0, _size(lv)) for lv in logical]
    return volumes


def _size(stream: IO[bytes]) -> int:
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


def _owner(inode: Any) -> dict[str, int]:
    """Permission bits and owner from an ext4 or XFS on-disk inode (-1 where the layout differs)."""
    raw = getattr(inode, "inode", None)
    mode = getattr(raw, "i_mode", None) if raw is not None else None
    if mode is None and raw is not None:
        mode = getattr(raw, "di_mode", None)
    uid = getattr(raw, "i_uid", getattr(raw, "di_uid", -1)) if raw is not None else -1
    gid = getattr(raw, "i_gid", getattr(raw, "di_gid", -1)) if raw is not None else -1
    high = getattr(raw, "l_i_uid_high", 0) if raw is not None else 0
    return {
        "mode": stat.S_IMODE(mode) if isinstance(mode, int) else -1,
        "uid": int(uid) + (int(high) << 16 if isinstance(high, int) else 0),
        "gid": int(gid),
    }


def open_disk_file(spec: str, path: Path) -> DiskTarget:
    """A disk image file on this machine (``disk:FILE``); a VMDK descriptor's extents are read beside it."""
    handle = open_regular(str(path), str(path), follow=True)
    return DiskTarget(spec, handle, str(path), path.parent)


class DiskTarget(ConfinedTarget):
    """A root-confined view of the root filesystem inside a disk image.

    ``image`` is the image file: a local file, or a BlockStream over an EBS snapshot or an HTTP URL (then
    ``extents_dir`` is None: a VMDK descriptor naming other files is refused). ``name`` starts every
    message. The target owns ``image`` and closes it."""

    def __init__(
        self,
        spec: str,
        image: IO[bytes],
        name: str,
        extents_dir: Path | None,
        source: Callable[[], SourceInfo] | None = None,
    ) -> None:
        super().__init__(TargetInfo(spec, "disk"))
        self._file = image
        self._extents: list[IO[bytes]] = []
        self._source = source
        try:
            extfs_cls, qcow2_cls, vmdk_cls, disk_cls, lvm_cls, xfs_cls = _import_dissect()
        except TargetError:
            self.close()
            raise
        stage = "the image header"
        try:
            file_size = _size(self._file)
            head = self._file.read(1024)
            self._file.seek(0)
            if head[:4] == QCOW2_MAGIC:
                check_qcow2(self._file, file_size)
                stage = "the qcow2 image"
                stream = qcow2_cls(self._file).open()  # a handle, not a path: dissect opens no other file
            elif head[:4] == VMDK_MAGIC:
                check_vmdk_sparse(self._file, file_size, "the VMDK")
                self._file.seek(0)
                stage = "the VMDK image"
                stream = vmdk_cls(self._file)
            elif _looks_like_vmdk_descriptor(head):
                stage = "the VMDK extents"
                if extents_dir is None:
                    raise TargetError(
                        "a VMDK descriptor names its extents as other files, which imagevet reads only "
                        "beside a local descriptor; give a single-file VMDK (monolithicSparse or "
                        "streamOptimized)"
                    )
                stream = vmdk_cls(self._open_extents(extents_dir, file_size))
            elif head[:8] == VHDX_SIGNATURE:
                check_vhdx(self._file, file_size)
                self._file.seek(0)
                stage = "the VHDX image"
                from dissect.hypervisor.disk.vhdx import VHDX  # parentless (checked): opens no other file

                stream = VHDX(self._file)
            elif looks_like_vhd(self._file, head, file_size):
                check_vhd(self._file, file_size)
                stage = "the VHD image"
                from dissect.hypervisor.disk.vhd import VHD

                stream = VHD(self._file)  # its size is the virtual size, the footer left out
            else:
                stream = self._file
            stage = "the partition table"
            disk_size = _size(stream)
            check_gpt(stream, disk_size)
            volumes = _volumes(stream, disk_cls, lvm_cls, disk_size)
            stage = "the filesystems"
            for volume in volumes:
                check_filesystem(volume.stream, volume.base, volume.offset, volume.limit)
            self._fs = self._root_filesystem([v.stream for v in volumes], extfs_cls, xfs_cls, name)
        except Exception as exc:
            self.close()
            failure = self.failure()  # a remote read that failed while dissect probed: the real reason
            if failure is not None:
                raise TargetError(failure) from exc
            if isinstance(exc, TargetError):
                message = str(exc)
                raise TargetError(message if message.startswith(name) else f"{name}: {message}") from exc
            # a damaged image is an input error, not a crash; dissect's text may quote it
            raise TargetError(f"{name}: cannot read {stage} ({exc.__class__.__name__})") from exc
        self._cache: dict[str, Any] = {}

    @property
    def info(self) -> TargetInfo:
        if self._source is None:
            return self._info
        return dataclasses.replace(self._info, source=self._source())

    def failure(self) -> str | None:
        """Why a read of the image failed, if one did (a BlockStream keeps its first failure)."""
        failed = getattr(self._file, "failure", None)
        return None if failed is None else str(failed)

    def _open_extents(self, folder: Path, file_size: int) -> list[IO[bytes]]:
        """The extent files a VMDK descriptor lists: plain files beside it, opened without following
        links, each checked whole (a flat extent exactly its declared size, a sparse one by its tables)."""
        if file_size > 1 << 20:
            raise TargetError("the VMDK descriptor is larger than 1 MiB")
        extents, needs_parent = vmdk_descriptor(self._file.read().decode("latin-1"))
        if needs_parent:
            raise TargetError(NEEDS_PARENT)
        if not extents:
            raise TargetError("the VMDK descriptor lists no extent")
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for number, extent in enumerate(extents, start=1):
                what = f"VMDK extent {number}"
                if extent.kind not in ("FLAT", "VMFS", "SPARSE") or extent.offset:
                    raise TargetError(f"{what} is of a kind imagevet does not read")
                if "/" in extent.filename or extent.filename in ("", ".", ".."):
                    raise TargetError(f"{what} is not a file beside the descriptor")
                handle = open_regular(extent.filename, what, dir_fd=directory)
                self._extents.append(handle)
                size = _size(handle)
                if extent.kind == "SPARSE":
                    check_vmdk_sparse(handle, size, what)
                    handle.seek(0)
                elif size != extent.sectors * SECTOR:
                    raise TargetError(
                        f"{what} is {size} bytes, the descriptor says {extent.sectors * SECTOR}"
                    )
        finally:
            os.close(directory)
        return list(self._extents)

    @staticmethod
    def _root_filesystem(volumes: list[IO[bytes]], extfs_cls: Any, xfs_cls: Any, name: str) -> Any:
        filesystems = []
        for volume in volumes:
            for fs_cls in (extfs_cls, xfs_cls):
                try:
                    volume.seek(0)
                    filesystems.append(fs_cls(volume))
                    break
                except Exception:  # not this filesystem type
                    continue
        if not filesystems:
            raise TargetError(f"{name}: no ext2/3/4 or XFS filesystem found in the image")
        readable = []
        for fs in filesystems:
            try:
                fs.get("/").listdir()
            except Exception:  # a damaged or truncated filesystem
                continue
            readable.append(fs)
            for candidate in ("etc/os-release", "usr/lib/os-release"):
                try:
                    fs.get(candidate)
                    return fs
                except Exception:
                    continue
        if not readable:
            raise TargetError(f"{name}: the filesystem in the image is damaged or truncated")
        return readable[0]

    # ---- primitives --------------------------------------------------------------------------------
    def _inode(self, parts: list[str]) -> Any:
        key = "/".join(parts)
        if key not in self._cache:
            if not parts:
                self._cache[key] = self._fs.get("/")
            else:
                parent = self._inode(parts[:-1])
                entries = parent.listdir() if parent is not None and stat.S_ISDIR(parent.filetype) else {}
                self._cache[key] = entries.get(parts[-1])
        return self._cache[key]

    def _node(self, parts: list[str]) -> Node | None:
        try:
            inode = self._inode(parts)
            if inode is None:
                return None
            kind = inode.filetype
            size = inode.size if stat.S_ISREG(kind) else 0
            owner = _owner(inode)
        except Exception as exc:  # corrupt metadata must become a reason, not a crash
            raise OSError(f"damaged filesystem metadata ({exc.__class__.__name__})") from exc
        if stat.S_ISLNK(kind):
            return Node(LINK, **owner)
        if stat.S_ISDIR(kind):
            return Node(DIR, **owner)
        if stat.S_ISREG(kind):
            return Node(FILE, size, **owner)
        return Node(OTHER, **owner)

    def _link(self, parts: list[str]) -> str:
        return str(self._inode(parts).link)

    def _names(self, parts: list[str]) -> list[str]:
        return [name for name in self._inode(parts).listdir() if name not in (".", "..")]

    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        try:
            data: bytes = self._inode(parts).open().read(max_bytes + 1)
            return data
        except Exception as exc:
            return Unknown(f"{path} cannot be read from the disk image: {exc}")

    def close(self) -> None:
        for handle in [getattr(self, "_file", None), *getattr(self, "_extents", [])]:
            if handle is not None:
                handle.close()
        super().close()
