"""Advisory database scale (issue 5): import speed, size on disk, and matching time and memory.

    python benchmarks/vuln_speed.py [--records 200000] [--packages 1000] [--work DIR]

Generates a synthetic OSV archive shaped like Debian's (ECOSYSTEM ranges with epochs and +debNuM fixes,
CVE aliases, several affected packages per record) and a Debian 12 root whose dpkg database holds
``--packages`` installed packages, some of them vulnerable. Then it times, as a user runs them:
`imagevet db import all.zip` (records per second, database size) and `imagevet vuln ROOT` (wall time and
peak RSS of the process, measured with os.wait4).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from _timing import timed


def make_archive(path: Path, records: int, names: list[str], rng: random.Random) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(records):
            affected = []
            for name in rng.sample(names, rng.randint(1, 3)):
                upstream = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}"
                fixed = f"{rng.randint(0, 2)}:{upstream}+deb12u{rng.randint(1, 9)}"
                affected.append(
                    {
                        "package": {
                            "ecosystem": rng.choice(["Debian:12", "Debian:11", "Debian:13"]),
                            "name": name,
                        },
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                    }
                )
            record = {
                "id": f"DEBIAN-CVE-{2000 + index // 50000}-{index:06d}",
                "modified": "2026-11-01T00:00:00Z",
                "summary": f"synthetic advisory {index}",
                "aliases": [f"CVE-{2000 + index // 50000}-{index:06d}"],
                "affected": affected,
            }
            archive.writestr(f"{record['id']}.json", json.dumps(record))


def make_root(root: Path, packages: int, names: list[str], rng: random.Random) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    stanzas = []
    for name in rng.sample(names, packages):
        version = f"{rng.randint(0, 2)}:{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}"
        stanzas.append(
            f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n"
        )
    (root / "var/lib/dpkg/status").write_text("\n".join(stanzas))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="imagevet-vuln-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    names = [f"pkg{index:05d}" for index in range(30_000)]
    archive = work / "Debian-all.zip"
    if not archive.exists():
        make_archive(archive, args.records, names, rng)
    root = work / "root"
    if root.exists():
        shutil.rmtree(root)
    make_root(root, args.packages, names, rng)
    imagevet = shutil.which("imagevet") or str(Path(sys.executable).with_name("imagevet"))
    database = work / "osv.sqlite3"
    database.unlink(missing_ok=True)
    wall, peak, code = timed([imagevet, "db", "import", str(archive), "--db", str(database)])
    assert code == 0, "import failed"
    print(
        f"import: {args.records} records in {wall:.1f} s = {args.records / wall:,.0f} records/s, "
        f"peak {peak:.0f} MB; database {database.stat().st_size / 1e6:.0f} MB on disk "
        f"(archive {archive.stat().st_size / 1e6:.0f} MB)"
    )
    command = [imagevet, "vuln", str(root), "--db", str(database), "--format", "json", "--fail-on", "never"]
    runs = [timed(command) for _ in range(5)]
    walls = sorted(r[0] for r in runs)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = len(json.loads(output)["findings"])
    print(
        f"vuln: {args.packages} packages against {args.records} records: median {walls[2]:.2f} s "
        f"(min {walls[0]:.2f}, max {walls[-1]:.2f}), peak {max(r[1] for r in runs):.0f} MB, {found} findings"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
