"""Advisory database scale (issues 5 and 19): import speed against a minimal loader, size on disk, and
matching time (as a multiple of Python start-up with one import) and memory.

    python benchmarks/vuln_speed.py [--records 200000] [--packages 1000] [--affected-share 0.26]
                                    [--runs 7] [--import-runs 3] [--base REV] [--work DIR]

Generates a synthetic OSV archive shaped like Debian's (ECOSYSTEM ranges with epochs and +debNuM fixes,
CVE aliases, 1-3 affected packages per record over 30,000 names, three Debian ecosystems) and a Debian 12
root whose dpkg database holds ``--packages`` installed packages. ``--affected-share S`` draws that share
of the affected entries from the installed packages (0: uniformly from all names, about 2,300 findings on
1,000 packages; 0.26: about 20,000). Then, runs interleaved in one session, it times as a user runs them:

- `imagevet db import all.zip` beside a minimal loader (every record parsed with json.loads, its id,
  package names and JSON text inserted into one SQLite table, an index on the package, one commit);
- `imagevet vuln ROOT --format json` beside F, the wall time of `python -c "import yaml"`;

wall times (medians) and peak RSS of each process (os.wait4). With ``--base REV`` the same commands also
run from that commit's src/ (git archive; its own database, built by its own import), and the findings
of both must be equal. imagevet always runs from a source tree (PYTHONPATH), never an installed copy, and
each tree is byte-compiled first (PYTHONDONTWRITEBYTECODE, set on these machines, would otherwise make
every run compile all of imagevet: about 0.1 s of each scan until 2026-12-03).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from _timing import timed
from against_commit import export_src

REPO = Path(__file__).resolve().parents[1]
NAMES = [f"pkg{index:05d}" for index in range(30_000)]


def affected_names(rng: random.Random, installed: list[str], share: float) -> list[str]:
    """1-3 distinct names for one record: each from ``installed`` with probability ``share``."""
    if not share:
        return rng.sample(NAMES, rng.randint(1, 3))
    chosen: list[str] = []
    for _ in range(rng.randint(1, 3)):
        pool = installed if rng.random() < share else NAMES
        name = rng.choice(pool)
        if name not in chosen:
            chosen.append(name)
    return chosen


def make_archive(path: Path, records: int, installed: list[str], share: float, rng: random.Random) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(records):
            affected = []
            for name in affected_names(rng, installed, share):
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


def make_root(root: Path, installed: list[str], rng: random.Random) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    stanzas = []
    for name in installed:
        version = f"{rng.randint(0, 2)}:{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}"
        stanzas.append(
            f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n"
        )
    (root / "var/lib/dpkg/status").write_text("\n".join(stanzas))


def minimal_load(archive: Path, database: Path) -> None:
    """The floor an import is measured against: parse, insert (id, package, JSON text), index, commit."""
    connection = sqlite3.connect(str(database))
    connection.execute("CREATE TABLE records (id TEXT NOT NULL, package TEXT NOT NULL, json TEXT NOT NULL)")
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(archive) as members:
        for info in members.infolist():
            text = members.read(info).decode()
            record = json.loads(text)
            rows.extend((record["id"], entry["package"]["name"], text) for entry in record["affected"])
    connection.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
    connection.execute("CREATE INDEX records_package ON records (package)")
    connection.commit()
    connection.close()


def run(src: Path | None, command: list[str]) -> tuple[float, float, int]:
    """``timed`` with imagevet's source tree ``src`` first on PYTHONPATH (None: as the venv has it)."""
    environment = dict(os.environ)
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)
    try:
        return timed(command)
    finally:
        os.environ.clear()
        os.environ.update(environment)


def findings_of(src: Path, command: list[str]) -> list[dict[str, Any]]:
    environment = {**os.environ, "PYTHONPATH": str(src)}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment).stdout
    found: list[dict[str, Any]] = json.loads(output)["findings"]
    return found


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument(
        "--affected-share",
        type=float,
        default=0.0,
        help="share of affected entries naming installed packages",
    )
    parser.add_argument("--runs", type=int, default=7, help="vuln runs (and F runs), interleaved")
    parser.add_argument("--import-runs", type=int, default=3, help="db import runs (and loader runs)")
    parser.add_argument("--base", help="also run this earlier commit's src/ (before -> after)")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--minimal-load", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minimal_load:
        minimal_load(*args.minimal_load)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="imagevet-vuln-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    share = args.affected_share
    installed = random.Random(6).sample(NAMES, args.packages) if share else []
    archive = work / (f"Debian-all-{args.records}-{share:g}.zip" if share else "Debian-all.zip")
    if not archive.exists():
        partial = archive.with_suffix(".partial")
        make_archive(partial, args.records, installed, share, rng)
        partial.rename(archive)
    root = work / "root"
    if root.exists():
        shutil.rmtree(root)
    make_root(root, installed or rng.sample(NAMES, args.packages), random.Random(7) if share else rng)

    trees: dict[str, Path] = {"head": REPO / "src"}
    with tempfile.TemporaryDirectory(prefix="imagevet-base-") as folder:
        if args.base:
            trees = {"base": export_src(args.base, Path(folder)), **trees}
        for tree in trees.values():  # as pip leaves an installed tool (see _timing.compile_imagevet)
            if not compileall.compile_dir(tree / "imagevet", quiet=1):
                raise SystemExit(f"byte-compiling {tree} failed")
        imagevet = [sys.executable, "-m", "imagevet"]
        databases = {name: work / f"osv-{name}.sqlite3" for name in trees}
        loader_db = work / "minimal.sqlite3"
        loader = [sys.executable, __file__, "--minimal-load", str(archive), str(loader_db)]
        imports: dict[str, list[tuple[float, float, int]]] = {name: [] for name in [*trees, "loader"]}
        for _ in range(args.import_runs):
            for name, src in trees.items():
                databases[name].unlink(missing_ok=True)
                imports[name].append(
                    run(src, [*imagevet, "db", "import", str(archive), "--db", str(databases[name])])
                )
                assert imports[name][-1][2] == 0, f"{name}: import failed"
            loader_db.unlink(missing_ok=True)
            imports["loader"].append(run(None, loader))
            assert imports["loader"][-1][2] == 0, "minimal loader failed"
        floor = median([r[0] for r in imports["loader"]])
        print(f"archive: {args.records} records, {archive.stat().st_size / 1e6:.0f} MB ({archive.name})")
        print(f"minimal loader: median {floor:.2f} s, peak {max(r[1] for r in imports['loader']):.0f} MB")
        for name in trees:
            wall = median([r[0] for r in imports[name]])
            print(
                f"db import ({name}): median {wall:.2f} s = {args.records / wall:,.0f} records/s, "
                f"peak {max(r[1] for r in imports[name]):.0f} MB, database "
                f"{databases[name].stat().st_size / 1e6:.0f} MB; "
                f"db import / minimal loader = {wall / floor:.2f}"
            )

        commands = {
            name: [
                *imagevet,
                "vuln",
                str(root),
                "--db",
                str(databases[name]),
                "-f",
                "json",
                "--fail-on",
                "never",
            ]
            for name in trees
        }
        found = {name: findings_of(src, commands[name]) for name, src in trees.items()}
        if args.base:
            assert found["base"] == found["head"], "base and head disagree on the findings"
        scans: dict[str, list[tuple[float, float, int]]] = {name: [] for name in [*trees, "F"]}
        yaml_import = [sys.executable, "-c", "import yaml"]
        run(None, yaml_import)
        for _ in range(args.runs):
            scans["F"].append(run(None, yaml_import))
            for name, src in trees.items():
                scans[name].append(run(src, commands[name]))
        unit = median([r[0] for r in scans["F"]])
        print(f"F (python -c 'import yaml'): median {unit * 1000:.0f} ms of {args.runs}")
        for name in trees:
            walls = sorted(r[0] for r in scans[name])
            print(
                f"vuln ({name}): {args.packages} packages against {args.records} records, "
                f"{len(found[name])} findings: median {median(walls):.2f} s (min {walls[0]:.2f}, max "
                f"{walls[-1]:.2f}) = {median(walls) / unit:.1f} F, "
                f"peak {max(r[1] for r in scans[name]):.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
