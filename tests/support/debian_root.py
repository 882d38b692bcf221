"""Build (once) and cache a real Debian 12 root filesystem with debootstrap.

The root is the end-to-end fixture of the audit and the benchmark target. It is expensive (a minute or
more, network to the Debian mirror), so it lives outside the repository under a cache directory keyed by
every input that shapes it: change the suite, variant, package list or mirror and a new root is built.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
# cloud-init's postinst byte-compiles modules that import cffi; debootstrap does not resolve that itself.
INCLUDE = ("openssh-server", "cloud-init", "python3-cffi-backend", "sudo")
MIRROR = os.environ.get("IMAGEVET_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def cache_root() -> Path:
    """Where cached fixtures live: $IMAGEVET_TEST_CACHE, else ~/.cache/imagevet-tests."""
    env = os.environ.get("IMAGEVET_TEST_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "imagevet-tests"


def fixture_key() -> str:
    """A short digest of everything that decides the root's content."""
    text = "|".join([SUITE, VARIANT, ",".join(sorted(INCLUDE)), MIRROR])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_debian_root() -> Path:
    """Return the path of the cached Debian root, building it first if needed.

    The build goes to a temporary sibling directory and is renamed into place only when debootstrap
    succeeded, so an interrupted build never leaves a half root that later runs would trust.
    """
    final = cache_root() / f"debian12-{fixture_key()}" / "root"
    if (final / "var/lib/dpkg/status").is_file():
        return final
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / "root.partial"
    if work.exists():
        shutil.rmtree(work)
    subprocess.run(
        [
            "debootstrap",
            f"--variant={VARIANT}",
            f"--include={','.join(INCLUDE)}",
            SUITE,
            str(work),
            MIRROR,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Package caches are not part of the image under test and would only cost disk.
    shutil.rmtree(work / "var/cache/apt/archives", ignore_errors=True)
    work.rename(final)
    return final


if __name__ == "__main__":
    print(ensure_debian_root())
