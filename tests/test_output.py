"""-o never destroys anything: a regular file is replaced whole (temp file + rename), a device, FIFO or
socket is written as it is, a directory or block device is refused before any work, a link is followed
(and stays a link), '-' is stdout; new reports are 0644 minus the umask, harden scripts 0755."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import threading
from pathlib import Path

from tests.conftest import AS_OF_DATE, FIXTURES
from tests.support.cli import IMAGEVET, run_imagevet

ROOT = str(FIXTURES / "rootfs/hardened-debian")
QUICK = ("audit", ROOT, "--checks", "os-lts", "--as-of", AS_OF_DATE, "-f", "json")


def test_dash_is_stdout() -> None:
    proc = run_imagevet(*QUICK, "-o", "-")
    assert proc.returncode == 0 and json.loads(proc.stdout)["schema"] == "imagevet/audit/v1"
    assert not Path("-").exists()


def test_a_character_device_is_written_not_replaced(tmp_path: Path) -> None:
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null, so a regression is harmless
    proc = run_imagevet(*QUICK, "-o", str(null))
    assert proc.returncode == 0, proc.stderr
    info = os.stat(null)
    assert stat.S_ISCHR(info.st_mode) and os.major(info.st_rdev) == 1 and os.minor(info.st_rdev) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary file left beside it


def test_a_fifo_is_written_as_is(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    proc = run_imagevet(*QUICK, "-o", str(fifo))
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(received[0])["schema"] == "imagevet/audit/v1"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_unix_socket_is_written_as_is(tmp_path: Path) -> None:
    path = tmp_path / "report.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    chunks: list[bytes] = []

    def accept() -> None:
        connection, _ = server.accept()
        with connection:
            while data := connection.recv(65536):
                chunks.append(data)

    thread = threading.Thread(target=accept)
    thread.start()
    proc = run_imagevet(*QUICK, "-o", str(path))
    thread.join(timeout=30)
    server.close()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(b"".join(chunks))["schema"] == "imagevet/audit/v1"
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_refusals_come_before_the_work_in_one_line(tmp_path: Path) -> None:
    for target, fragment in (
        (tmp_path, "is a directory"),
        (tmp_path / "missing-dir" / "r.json", "does not exist"),
    ):
        proc = run_imagevet(*QUICK, "-o", str(target))
        assert proc.returncode == 2 and proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("imagevet: error:") and fragment in lines[0]
    block = tmp_path / "disk"
    os.mknod(block, stat.S_IFBLK | 0o600, os.makedev(7, 200))  # a loop device node (no device behind it)
    proc = run_imagevet(*QUICK, "-o", str(block))
    assert proc.returncode == 2 and "block device" in proc.stderr
    assert stat.S_ISBLK(os.lstat(block).st_mode)


def test_a_link_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "report.json"
    link.symlink_to(real)
    assert run_imagevet(*QUICK, "-o", str(link)).returncode == 0
    assert link.is_symlink() and json.loads(real.read_text())["schema"] == "imagevet/audit/v1"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # a replaced file keeps its mode


def test_new_reports_are_0644_minus_the_umask_and_scripts_0755(tmp_path: Path) -> None:
    def imagevet_with_umask(mask: int, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*IMAGEVET, *args],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(mask),  # the umask is the point of the test
        )

    report = tmp_path / "r.json"
    assert imagevet_with_umask(0o022, *QUICK, "-o", str(report)).returncode == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    strict = tmp_path / "strict.json"
    assert imagevet_with_umask(0o077, *QUICK, "-o", str(strict)).returncode == 0
    assert stat.S_IMODE(strict.stat().st_mode) == 0o600
    script = tmp_path / "harden.sh"
    proc = imagevet_with_umask(
        0o022, "harden", ROOT, "--emit", "bash", "-o", str(script), "--as-of", AS_OF_DATE
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_a_failed_run_leaves_the_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    assert run_imagevet("audit", "/nonexistent", "-o", str(out)).returncode == 2
    assert out.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
