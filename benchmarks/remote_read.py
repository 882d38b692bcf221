"""Auditing a 2 GiB disk image where it lives (issue 17): bytes read, requests and wall time, every form.

One run measures, through the CLI as a user runs it (a new process each time, start-up included):

- the directory audit of the debootstrap root and the local ``disk:`` audit of its qcow2 (the baselines);
- ``imagevet audit http://…/IMAGE`` of the same 2 GiB GPT disk in every form imagevet reads by URL (raw,
  qcow2, VMDK monolithicSparse and streamOptimized, VHD fixed and dynamic, VHDX), served by a real nginx,
  with ``IMAGEVET_BLOCK_CACHE=off``; bytes and requests from the report's ``target.source`` and, as a
  cross-check, from nginx's access log;
- the same URLs twice more with a fresh block cache directory (the run that fills it, the run that reads
  it);
- the raw disk as the EBS snapshot of an AMI in moto's server (``ami:… --region us-east-1``);
- the qcow2 through a range server that answers 50 ms late (a far-away mirror), to show what the number
  of requests costs over a WAN.

Every audit must give the directory's check statuses; a mismatch is printed loudly and the script exits 1.

The disk and its conversions are built once and cached outside the repository, keyed by everything that
shapes them (the debootstrap root's key, the size, the conversions, qemu-img's version)::

    .venv/bin/python benchmarks/remote_read.py --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.debian_root import cache_root, ensure_debian_root, fixture_key  # noqa: E402
from tests.support.disks import make_disk  # noqa: E402
from tests.support.ebs import (  # noqa: E402
    CANONICAL,
    MOTO_PATCH,
    account_credentials,
    register_ami,
    upload_snapshot,
)
from tests.support.http_ranges import RangeServer, serve_ranges  # noqa: E402
from tests.support.moto import aws_environment, start_moto_patched  # noqa: E402
from tests.support.nginx import Nginx, start_nginx  # noqa: E402

IMAGEVET = str(REPO / ".venv" / "bin" / "imagevet")
AS_OF = "2026-11-28"
SIZE_MIB = 2048
IMAGE_BYTES = SIZE_MIB << 20
MIB = 1 << 20
LATENCY = 0.050

# file name, label, qemu-img convert arguments (None: the raw disk itself)
FORMS: list[tuple[str, str, list[str] | None]] = [
    ("gpt.raw", "raw", None),
    ("gpt.qcow2", "qcow2", ["-O", "qcow2"]),
    ("gpt.vmdk", "VMDK (monolithicSparse)", ["-O", "vmdk"]),
    ("gpt-stream.vmdk", "VMDK (streamOptimized)", ["-O", "vmdk", "-o", "subformat=streamOptimized"]),
    ("gpt-fixed.vhd", "VHD (fixed)", ["-O", "vpc", "-o", "subformat=fixed,force_size=on"]),
    ("gpt-dynamic.vhd", "VHD (dynamic)", ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]),
    ("gpt.vhdx", "VHDX", ["-O", "vhdx"]),
]


def qemu_img_version() -> str:
    out = subprocess.run(["qemu-img", "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


def disks_folder() -> Path:
    """Where the disks live: beside the cached root, under a key of every input that shapes them."""
    inputs = [fixture_key(), str(SIZE_MIB), "gpt", qemu_img_version()]
    inputs += [f"{name}:{' '.join(args or [])}" for name, _, args in FORMS]
    key = hashlib.sha256("|".join(inputs).encode()).hexdigest()[:12]
    return cache_root() / f"debian12-{fixture_key()}" / f"remote-read-{key}"


def ensure_disks(root: Path) -> Path:
    """The 2 GiB GPT disk of ``root`` in every form, built once (each file renamed into place only when
    complete, so an interrupted build is never trusted)."""
    folder = disks_folder()
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "gpt.raw"
    if not raw.exists():
        print(f"building {raw} ({SIZE_MIB} MiB) ...", file=sys.stderr)
        make_disk(root, folder / "gpt.partial.raw", size_mib=SIZE_MIB, fmt="raw").rename(raw)
    for name, _, args in FORMS:
        out = folder / name
        if args is None or out.exists():
            continue
        print(f"converting to {name} ...", file=sys.stderr)
        partial = folder / f"partial-{name}"
        subprocess.run(
            ["qemu-img", "convert", *args, str(raw), str(partial)], check=True, capture_output=True
        )
        partial.rename(out)
    return folder


@dataclass
class Run:
    wall: float
    peak_mib: float
    code: int
    report: dict[str, Any]
    stderr: str


def audit(target: str, env: dict[str, str], *extra: str) -> Run:
    """``imagevet audit TARGET -f json --as-of …`` in a new process: wall time, peak RSS, the report."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [IMAGEVET, "audit", target, "-f", "json", "--as-of", AS_OF, *extra],
            stdout=out,
            stderr=err,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if code not in (0, 1):
        raise SystemExit(f"imagevet audit {target} exited {code}:\n{stderr[-3000:]}")
    return Run(wall, usage.ru_maxrss / 1024, code, json.loads(stdout), stderr)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["check"]: r["status"] for r in report["results"]}


@dataclass
class Row:
    form: str
    file_bytes: int | None
    runs: list[Run] = field(default_factory=list)
    logs: list[tuple[int, int]] = field(default_factory=list)  # nginx's (requests, bytes), run by run

    @property
    def source(self) -> dict[str, Any]:
        return dict(self.runs[0].report["target"].get("source") or {})

    def cost(self) -> tuple[int, int, int]:
        """(requests, bytes fetched, runs that reported exactly that): the value most runs reported."""
        values = Counter(
            (
                int(r.report["target"]["source"]["requests"]),
                int(r.report["target"]["source"]["bytes_fetched"]),
            )
            for r in self.runs
        )
        (requests, fetched), count = values.most_common(1)[0]
        return requests, fetched, count

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)


def nginx_totals(server: Nginx, name: str, at_least: int) -> tuple[int, int]:
    """(requests, body bytes sent) for ``/name`` in nginx's access log so far."""
    entries = [e for e in server.entries(at_least=at_least) if e.uri == f"/{name}"]
    return len(entries), sum(e.bytes for e in entries)


def mib(value: int) -> str:
    return f"{value / MIB:,.1f} MiB"


def size_text(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / MIB:,.0f} MiB" if value < (1 << 30) else f"{value / (1 << 30):.2f} GiB"


@contextmanager
def moto_ami(raw: Path, folder: Path) -> Iterator[tuple[str, dict[str, str], float, int]]:
    """An AMI whose root snapshot is ``raw``, in moto's server: (AMI id, environment for the CLI, upload
    seconds, written blocks)."""
    with start_moto_patched(folder, [], MOTO_PATCH) as endpoint:
        aws = aws_environment(endpoint, folder)
        saved = {key: os.environ.get(key) for key in aws}
        os.environ.update(aws)
        try:
            canonical = account_credentials(CANONICAL)
            started = time.monotonic()
            snapshot, gib, written = upload_snapshot(canonical.session(), raw)
            uploaded = time.monotonic() - started
            image = register_ami(canonical.session(), snapshot, volume_gib=gib)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        env = {**aws, **canonical.environment()}
        env.pop("AWS_DEFAULT_REGION", None)  # --region is the one that counts
        yield image, env, uploaded, len(written)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="uncached audits of each target (median wall)")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a new temporary one)")
    args = parser.parse_args()

    root = ensure_debian_root()
    folder = ensure_disks(root)
    files = {name: folder / name for name, _, _ in FORMS}
    work = Path(args.work or tempfile.mkdtemp(prefix="imagevet-remote-read-"))
    work.mkdir(parents=True, exist_ok=True)

    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMAGEVET_"))}
    base["XDG_CACHE_HOME"] = str(work / "xdg-cache")
    base["XDG_DATA_HOME"] = str(work / "xdg-data")  # no advisory database: exit 1 is expected
    uncached = {**base, "IMAGEVET_BLOCK_CACHE": "off"}

    directory = Row("directory (baseline)", None)
    local_disk = Row("`disk:` qcow2, local", files["gpt.qcow2"].stat().st_size)
    http = {name: Row(f"HTTP {label}", files[name].stat().st_size) for name, label, _ in FORMS}
    cache_fill = {name: Row(f"HTTP {label}", None) for name, label, _ in FORMS}
    cache_warm = {name: Row(f"HTTP {label}", None) for name, label, _ in FORMS}
    ebs = Row("`ami:` (EBS snapshot, moto)", IMAGE_BYTES)
    ebs_warm = Row("`ami:` (EBS snapshot, moto)", None)
    ebs_fill = Row("`ami:` (EBS snapshot, moto)", None)
    slow = Row(f"HTTP qcow2, +{LATENCY * 1000:.0f} ms per request", files["gpt.qcow2"].stat().st_size)
    mismatches: list[str] = []  # check statuses that differ from the directory's
    accounting: list[str] = []  # a report's requests and bytes that differ from what nginx served

    with ExitStack() as stack:
        server = stack.enter_context(start_nginx(work / "nginx", folder))
        print("uploading the raw disk to moto as an EBS snapshot ...", file=sys.stderr)
        ami, aws_env, uploaded, written = stack.enter_context(moto_ami(files["gpt.raw"], work / "moto"))
        print(f"  {written} blocks of 512 KiB written in {uploaded:.1f} s", file=sys.stderr)
        print("loading the qcow2 into the delaying range server ...", file=sys.stderr)
        delayed = stack.enter_context(
            serve_ranges(RangeServer(files["gpt.qcow2"].read_bytes(), delay=LATENCY))
        )

        # Rounds alternate between targets so that load on the shared machine falls on all of them.
        for round_ in range(args.runs):
            print(f"round {round_ + 1}/{args.runs}", file=sys.stderr)
            directory.runs.append(audit(str(root), uncached))
            local_disk.runs.append(audit(f"disk:{files['gpt.qcow2']}", uncached))
            for name, _, _ in FORMS:
                server.clear_log()
                run = audit(f"{server.base_url}/{name}", uncached)
                http[name].runs.append(run)
                http[name].logs.append(nginx_totals(server, name, run.report["target"]["source"]["requests"]))
            ebs.runs.append(audit(f"ami:{ami}", {**uncached, **aws_env}, "--region", "us-east-1"))
            slow.runs.append(audit(f"{delayed.base_url}/gpt.qcow2", uncached))

        # An ami: target is an AWS image: --cloud aws and --image-id are implied (the cloud checks run, the
        # publisher is verified), so its statuses are those of the directory audited with both.
        with_ami = audit(
            str(root), {**uncached, **aws_env}, "--cloud", "aws", "--image-id", ami, "--region", "us-east-1"
        )

        # The block cache: one run fills a fresh cache directory, the next reads it.
        for name, _, _ in FORMS:
            cached = {**base, "IMAGEVET_BLOCK_CACHE": str(work / "cache" / name)}
            cache_fill[name].runs.append(audit(f"{server.base_url}/{name}", cached))
            cache_warm[name].runs.append(audit(f"{server.base_url}/{name}", cached))
        cached = {**base, **aws_env, "IMAGEVET_BLOCK_CACHE": str(work / "cache" / "ami")}
        ebs_fill.runs.append(audit(f"ami:{ami}", cached, "--region", "us-east-1"))
        ebs_warm.runs.append(audit(f"ami:{ami}", cached, "--region", "us-east-1"))

    expected = statuses(directory.runs[0].report)
    every = [(row, "") for row in [directory, local_disk, *http.values(), ebs, slow]]
    every += [(row, " (filling the cache)") for row in [*cache_fill.values(), ebs_fill]]
    every += [(row, " (from the cache)") for row in [*cache_warm.values(), ebs_warm]]
    ami_expected = statuses(with_ami.report)
    for row, role in every:
        want = ami_expected if any(row is r for r in (ebs, ebs_fill, ebs_warm)) else expected
        for number, run in enumerate(row.runs, 1):
            got = statuses(run.report)
            if got != want:
                differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
                detail = ", ".join(f"{k}: {want.get(k)} -> {got.get(k)}" for k in differ)
                mismatches.append(f"{row.form}{role}, run {number}: {detail}")
    for name, row in http.items():
        for number, (run, (requests, sent)) in enumerate(zip(row.runs, row.logs, strict=True), 1):
            source = run.report["target"]["source"]
            if (requests, sent) != (source["requests"], source["bytes_fetched"]):
                accounting.append(
                    f"{row.form}, run {number}: the report says {source['requests']} requests,"
                    f" {source['bytes_fetched']} B; nginx's log {requests}, {sent} B ({name})"
                )
            first = row.source
            if (source["requests"], source["bytes_fetched"]) != (first["requests"], first["bytes_fetched"]):
                print(
                    f"note: {row.form}, run {number}: {source['requests']} requests,"
                    f" {source['bytes_fetched']} B"
                    f" (run 1: {first['requests']}, {first['bytes_fetched']} B)",
                    file=sys.stderr,
                )

    base_wall = directory.wall
    load = os.getloadavg()
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {args.runs} runs per target (median wall), load average"
        f" {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; image {SIZE_MIB} MiB, {len(expected)} checks;"
        f" EBS upload: {written} written blocks of 512 KiB in {uploaded:.0f} s\n"
    )
    print(
        "| form | file size | bytes fetched | % of 2 GiB | requests | runs alike | = nginx log | wall"
        " | vs directory |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in [directory, local_disk, *http.values(), ebs, slow]:
        cells = ["", "", "", ""]
        if row.source:
            requests, fetched, count = row.cost()
            cells = [
                mib(fetched),
                f"{100 * fetched / IMAGE_BYTES:.2f}%",
                str(requests),
                f"{count}/{len(row.runs)}",
            ]
        log = ""
        if row.logs:
            agree = sum(
                (
                    int(r.report["target"]["source"]["requests"]),
                    int(r.report["target"]["source"]["bytes_fetched"]),
                )
                == totals
                for r, totals in zip(row.runs, row.logs, strict=True)
            )
            log = f"{agree}/{len(row.logs)}"
        print(
            f"| {row.form} | {size_text(row.file_bytes)} | {' | '.join(cells)} | {log} | {row.wall:.2f} s"
            f" | {row.wall / base_wall:.2f}x |"
        )

    print("\nBlock cache (a fresh `IMAGEVET_BLOCK_CACHE` directory: the run that fills it, then the next):\n")
    print("| form | fill: fetched, requests, wall | next: requests, fetched, from cache, wall |")
    print("|---|---|---|")
    pairs = [(cache_fill[name], cache_warm[name]) for name, _, _ in FORMS] + [(ebs_fill, ebs_warm)]
    for fill, warm in pairs:
        f, w = fill.source, warm.source
        print(
            f"| {fill.form} | {mib(int(f['bytes_fetched']))}, {f['requests']}, {fill.wall:.2f} s"
            f" | {w['requests']}, {mib(int(w['bytes_fetched']))}, {mib(int(w['bytes_from_cache']))},"
            f" {warm.wall:.2f} s |"
        )

    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if not mismatches:
        print(
            f"\nEvery audit gave the directory's {len(expected)} check statuses (the `ami:` ones the"
            f" {len(ami_expected)} of the directory audited with --cloud aws --image-id {ami})."
        )
    for title, lines in (
        ("MISMATCH: these audits differ from the directory audit (a bug):", mismatches),
        ("MISMATCH: these reports' target.source differs from nginx's access log (a bug):", accounting),
    ):
        if lines:
            print("\n" + "!" * 78)
            print(title)
            for line in lines:
                print(f"  {line}")
            print("!" * 78)
    return 1 if mismatches or accounting else 0


if __name__ == "__main__":
    sys.exit(main())
