"""Run the real OpenSSH ``sshd -T`` on an image's /etc/ssh, as the oracle for our sshd fact.

sshd reads absolute paths (``/etc/ssh/...``), so it runs in a private mount namespace where the image's
``etc/ssh`` is bind-mounted over the host's ``/etc/ssh``: includes resolve exactly as they would inside the
image, and the host's own configuration is neither read nor changed.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass(frozen=True)
class SshdResult:
    returncode: int
    values: dict[str, str]
    stderr: str


def sshd_available() -> bool:
    return Path(SSHD).exists() and shutil.which("unshare") is not None


def host_key(directory: Path) -> Path:
    key = directory / "ssh_host_ed25519_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def sshd_t(image_root: Path, key: Path) -> SshdResult:
    """``sshd -T`` with the image's /etc/ssh in place of the host's; first value of each keyword."""
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd insists on its privilege separation dir
    script = (
        f'mount --bind "{image_root}/etc/ssh" /etc/ssh && exec "{SSHD}" -T -f /etc/ssh/sshd_config -h "{key}"'
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    values: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        keyword, _, value = line.partition(" ")
        values.setdefault(keyword, value)
    return SshdResult(proc.returncode, values, proc.stderr)
