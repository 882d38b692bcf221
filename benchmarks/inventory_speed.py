"""Inventory and version-comparison speed (issue 4).

    python benchmarks/inventory_speed.py [ROOT]

- full inventory of ROOT (default: the cached debootstrap root), in-process, best of 20, beside
  `dpkg-query --admindir=ROOT/var/lib/dpkg -W` (a process, best of 20) for the ratio;
- 1,000,000 Debian version comparisons over a pool of realistic versions (keys cached as in matching).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path


def best_of(runs: int, action: object) -> float:
    assert callable(action)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.target import RootfsTarget
    from imagevet.versions import compare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, help="image root (default: the debootstrap root)")
    args = parser.parse_args()
    if args.root is not None:
        root = args.root
    else:
        from tests.support.debian_root import ensure_debian_root

        root = ensure_debian_root()
    target = RootfsTarget(str(root))
    os = gather_os_release(target)
    os_known = os if isinstance(os, OsRelease) else None
    count = len(collect_inventory(target, os_known).packages)
    ours = best_of(20, lambda: collect_inventory(target, os_known))
    query = ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W"]
    theirs = best_of(20, lambda: subprocess.run(query, capture_output=True, check=True))
    print(
        f"inventory {root}: {count} packages in {ours * 1000:.1f} ms (dpkg-query -W: {theirs * 1000:.1f} ms, "
        f"ratio {ours / theirs:.2f})"
    )

    rng = random.Random(1)
    installed = [p.version for p in collect_inventory(target, os_known).packages]
    pool = (
        installed + [f"{v}+deb12u{rng.randint(1, 9)}" for v in installed] + [f"1:{v}" for v in installed[:50]]
    )
    pairs = [(rng.choice(pool), rng.choice(pool)) for _ in range(1_000_000)]
    start = time.perf_counter()
    for a, b in pairs:
        compare("deb", a, b)
    elapsed = time.perf_counter() - start
    print(f"1,000,000 deb comparisons over {len(set(pool))} distinct versions: {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
