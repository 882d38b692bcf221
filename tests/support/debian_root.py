"""Build (once) and cache real Debian 12 root filesystems with debootstrap.

The base root is the end-to-end fixture of the audit and the benchmark target. It is expensive (a minute or
more, network to the Debian mirror), so it lives outside the repository under a cache directory keyed by
every input that shapes it: change the suite, variant, package list or mirror and a new root is built.
Variants with more packages (``extra``, e.g. systemd for the hardening tests) are cached beside it, each
under its own key; the base root's key does not change when a variant is asked for.
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
    """Where cached fixtures live: $IMAGEVET_TEST_CACHE, else $XDG_CACHE_HOME/imagevet-tests, else
    ~/.cache/imagevet-tests (the XDG default). Nothing in the tests may depend on which one it is: the
    directory can be under a world-writable /tmp, where some tools (sshd's ChrootDirectory) refuse paths."""
    env = os.environ.get("IMAGEVET_TEST_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "imagevet-tests"


def fixture_key(extra: tuple[str, ...] = ()) -> str:
    """A short digest of everything that decides the root's content (the base root's key is the one it
    always had, so an existing cache stays valid)."""
    include = sorted({*INCLUDE, *extra})
    text = "|".join([SUITE, VARIANT, ",".join(include), MIRROR])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_debian_root(extra: tuple[str, ...] = ()) -> Path:
    """Return the path of the cached Debian root (with the ``extra`` packages), building it first if needed.

    The build goes to a temporary sibling directory and is renamed into place only when debootstrap
    succeeded, so an interrupted build never leaves a half root that later runs would trust.
    """
    name = "debian12" if not extra else "debian12-" + "-".join(sorted(extra))
    final = cache_root() / f"{name}-{fixture_key(extra)}" / "root"
    if (final / "var/lib/dpkg/status").is_file():
        return final
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / "root.partial"
    if work.exists():
        shutil.rmtree(work)
    include = sorted({*INCLUDE, *extra})
    subprocess.run(
        ["debootstrap", f"--variant={VARIANT}", f"--include={','.join(include)}", SUITE, str(work), MIRROR],
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
