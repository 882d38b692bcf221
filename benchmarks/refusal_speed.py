"""Refusing hostile input (issue 15, item 3): wall time and peak RSS of `imagevet audit` on hostile or
truncated images, beside the same command on genuine images of similar size, in one run.

    python benchmarks/refusal_speed.py [--runs 5] [--work DIR]

Every input is made here: hostile ones from tests/support/images.py's helpers (headers written by Python's
tarfile, then multiplied or damaged), genuine ones from the debootstrap root the tests build
(tests/support/debian_root.py) and a small fixture root. Each run is a fresh `imagevet audit TARGET`
process measured with os.wait4 (interpreter start-up included), as a user would see it. Refusals must
exit 2; genuine audits exit 0 or 1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from _timing import timed

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.support.images import (  # noqa: E402
    END,
    file_entry,
    header_bomb,
    layer_bytes,
    make_oci_layout,
    pax_header,
    pax_record,
    tar_of,
)


def _gzip(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data, compresslevel=6))
    return path


def hostile(work: Path, debian_tar: Path, oci: Path) -> list[tuple[str, str, Path, str]]:
    """(case, spec, file, compared with) for each hostile input."""
    work.mkdir(parents=True, exist_ok=True)
    same = header_bomb(1, unique=False)[:512]
    bomb = _gzip(work / "bomb.tar.gz", same * 2_000_000 + END)
    small_bomb = _gzip(work / "small-bomb.tar.gz", same * 330_000 + END)
    unique = _gzip(work / "unique.tar.gz", header_bomb(1_000_000))
    zeros = work / "zeros.tar.gz"
    with gzip.open(zeros, "wb", compresslevel=6) as handle:
        handle.write(tar_of([file_entry("etc/os-release", "ID=debian\n")]))
        block = bytes(1 << 20)
        for _ in range(4096):  # 4 GiB of zeros after the end of the archive
            handle.write(block)
    looping = work / "looping.tar"
    looping.write_bytes(b"".join(pax_header(pax_record("comment", b"x")) for _ in range(10_000)) + END)
    pax = work / "pax.tar"
    pax.write_bytes(pax_header(b"99999999 path=x\n") + END)
    truncated = work / "truncated.tar"
    with debian_tar.open("rb") as source, truncated.open("wb") as out:
        out.write(source.read(debian_tar.stat().st_size // 2))
    deep = work / "deep.tar"
    deep.write_bytes(tar_of([file_entry("a/" * 2000 + "x", "x")]))
    tampered = work / "oci"
    if not tampered.exists():
        shutil.copytree(oci, tampered)
        layer = max((tampered / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
        with layer.open("r+b") as handle:  # one byte of the last gzip block: found only at the end
            handle.seek(-16, 2)
            last = handle.read(1)
            handle.seek(-16, 2)
            handle.write(bytes([last[0] ^ 0x01]))
    nested_json = work / "nested-json.tar"
    nested_json.write_bytes(
        tar_of([(tarfile.TarInfo("manifest.json"), b"[" * 3_000_000)])  # 3 MB of brackets
    )
    return [
        ("330,000 identical headers, gzip", f"tar:{small_bomb}", small_bomb, "small"),
        ("2,000,000 identical headers, gzip", f"tar:{bomb}", bomb, "small"),
        ("1,000,000 unique headers, gzip", f"tar:{unique}", unique, "small"),
        ("1 KiB tar + 4 GiB of zeros, gzip", f"tar:{zeros}", zeros, "small"),
        ("10,000 PAX headers before one member", f"tar:{looping}", looping, "small"),
        ("PAX record longer than its header", f"tar:{pax}", pax, "small"),
        ("path 2,000 directories deep", f"tar:{deep}", deep, "small"),
        ("manifest.json nested 3,000,000 deep", f"docker-archive:{nested_json}", nested_json, "small"),
        ("debootstrap root tar cut in half", f"tar:{truncated}", truncated, "debian"),
        ("debootstrap OCI layout, one layer byte changed", f"oci:{tampered}", tampered, "debian-oci"),
    ]


def genuine(work: Path) -> tuple[Path, dict[str, tuple[str, Path]]]:
    from tests.support.debian_root import ensure_debian_root

    root = ensure_debian_root()
    folder = work / "genuine"
    folder.mkdir(parents=True, exist_ok=True)
    debian_tar = folder / "rootfs.tar"
    if not debian_tar.exists():
        layer = layer_bytes(root)
        debian_tar.write_bytes(layer)
        make_oci_layout([layer], folder / "oci")
    small = folder / "small.tar.gz"
    small.write_bytes(gzip.compress(layer_bytes(PROJECT / "tests/fixtures/rootfs/hardened-debian")))
    return debian_tar, {
        "small": (f"tar:{small}", small),
        "debian": (f"tar:{debian_tar}", debian_tar),
        "debian-oci": (f"oci:{folder / 'oci'}", folder / "oci"),
    }


def measure(command: list[str], runs: int, refused: bool) -> tuple[float, float]:
    walls, peaks = [], []
    for _ in range(runs):
        wall, peak, code = timed(command)
        expected = (2,) if refused else (0, 1)
        if code not in expected:
            raise SystemExit(f"{' '.join(command)}: exit {code}, expected {expected}")
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), max(peaks)


_OPEN = """
import sys, time
from imagevet.errors import ImagevetError
from imagevet.target import open_target
start = time.perf_counter()
try:
    open_target(sys.argv[1]).close()
except ImagevetError:
    pass
print(time.perf_counter() - start)
"""


def open_seconds(spec: str, runs: int) -> float:
    """Median seconds open_target(spec) takes inside a process (the refusal itself, no CLI start-up)."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _OPEN, spec], check=True, capture_output=True, text=True)
        times.append(float(out.stdout))
    return statistics.median(times)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size


def make(work: Path) -> None:
    """Build every input under ``work`` and print the plan as JSON (run in its own process, so that the
    measuring process stays small: a forked child starts with its parent's resident memory)."""
    debian_tar, references = genuine(work)
    plan = {
        "genuine": {name: [spec, str(path)] for name, (spec, path) in references.items()},
        "hostile": [
            [case, spec, str(path), reference]
            for case, spec, path, reference in hostile(
                work / "hostile", debian_tar, references["debian-oci"][1]
            )
        ],
    }
    print(json.dumps(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make(args.make)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="imagevet-refusal-"))
    imagevet = shutil.which("imagevet") or str(Path(sys.executable).with_name("imagevet"))
    audit = [imagevet, "audit", "--format", "json", "--fail-on", "never"]
    try:
        made = subprocess.run(
            [sys.executable, __file__, "--make", str(work)], check=True, capture_output=True, text=True
        )
        plan = json.loads(made.stdout)
        baseline: dict[str, tuple[float, float]] = {}
        print(
            f"{'input':48} {'bytes':>10} {'exit':>4} {'wall s':>7} {'open s':>7} {'peak MB':>8}"
            "  wall / peak vs genuine"
        )
        start_up = measure([*audit, f"tar:{work / 'no-such.tar'}"], args.runs, refused=True)
        label = "(nothing: a missing file, CLI start-up)"
        print(f"{label:48} {0:>10} {2:>4} {start_up[0]:7.3f} {'':>7} {start_up[1]:8.1f}")
        for name, (spec, path) in plan["genuine"].items():
            timed([*audit, spec])  # warm the page cache
            baseline[name] = measure([*audit, spec], args.runs, refused=False)
            wall, peak = baseline[name]
            opened = open_seconds(spec, args.runs)
            label = f"(genuine: {name})"
            print(f"{label:48} {_size(Path(path)):>10} {'0/1':>4} {wall:7.3f} {opened:7.3f} {peak:8.1f}")
        for case, spec, path, reference in plan["hostile"]:
            wall, peak = measure([*audit, spec], args.runs, refused=True)
            base_wall, base_peak = baseline[reference]
            ratio = f"{wall / base_wall:.2f}x / {peak / base_peak:.2f}x ({reference})"
            opened = open_seconds(spec, args.runs)
            print(f"{case:48} {_size(Path(path)):>10} {2:>4} {wall:7.3f} {opened:7.3f} {peak:8.1f}  {ratio}")
        print(f"runs per input: {args.runs} (median wall, max peak RSS); load average at the end: {_load()}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[0]
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
