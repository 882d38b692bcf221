"""A fleet of SSH targets on 127.0.0.1 (issue 6: 200 targets in <= 30 s with bounded memory).

    python benchmarks/fleet_speed.py [--hosts 200] [--concurrency 16]

Starts a real sshd on 127.0.0.1 with per-run keys (tests/support/sshd_server.py), writes an inventory of
``--hosts`` entries pointing at it, and times `imagevet audit --inventory` as a process (os.wait4 for its
peak RSS). Also times the docker-archive audit beside the directory audit of the debootstrap root.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import timed


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.debian_root import cache_root, ensure_debian_root, fixture_key
    from tests.support.sshd_server import start_sshd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    imagevet = shutil.which("imagevet") or str(Path(sys.executable).with_name("imagevet"))

    root = ensure_debian_root()
    archive = cache_root() / f"debian12-{fixture_key()}" / "bench-image.tar"
    if not archive.exists():
        # Built in a child process, so this process stays small: a forked child's peak RSS (wait4) would
        # otherwise include the parent's memory.
        code = (
            f"from pathlib import Path; from tests.support.images import layer_bytes, make_docker_archive; "
            f"make_docker_archive([layer_bytes(Path({str(root)!r}))], Path({str(archive)!r}))"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
    base = [imagevet, "audit", "--format", "json", "--fail-on", "never"]
    for label, spec in (("directory", str(root)), ("docker-archive", f"docker-archive:{archive}")):
        runs = sorted(timed([*base, spec]) for _ in range(5))
        print(f"audit {label}: median {runs[2][0]:.3f} s, peak {max(r[1] for r in runs):.0f} MB")

    work = Path(tempfile.mkdtemp(prefix="imagevet-fleet-"))
    server = start_sshd(work / "sshd")
    try:
        inventory = work / "hosts.txt"
        inventory.write_text(
            "\n".join(f"ssh://root@127.0.0.1:{server.port}" for _ in range(args.hosts)) + "\n"
        )
        wall, peak, code = timed(
            [
                *base,
                "--inventory",
                str(inventory),
                "--identity",
                str(server.client_key),
                "--known-hosts",
                str(server.known_hosts),
                "--concurrency",
                str(args.concurrency),
                "--timeout",
                "30",
            ]
        )
        print(
            f"fleet: {args.hosts} SSH targets, concurrency {args.concurrency}: {wall:.1f} s, "
            f"peak {peak:.0f} MB, exit {code}"
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
