"""Inventory service scale (issue 10): ingest N image versions with M packages each through the API,
rescan them against a large advisory database, and measure API latency under concurrent clients.

    python benchmarks/service_speed.py [--images 10000] [--packages 500] [--records 200000]
                                       [--clients 50] [--seconds 20] [--writers 8] [--work DIR]
                                       [--database-url URL]

Everything runs as a user runs it: `imagevet db import` builds the advisory database from a synthetic
OSV archive (as benchmarks/vuln_speed.py makes it), `imagevet token create`, and `imagevet serve` in its
own process on 127.0.0.1 (SQLite by default). Peak memory is the server process's VmHWM.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from vuln_speed import make_archive

IMAGEVET = [sys.executable, "-m", "imagevet"]


def call(base: str, token: str, method: str, path: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def wait_for_health(base: str) -> None:
    """Wait up to 20 s for the service to answer /health."""
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def inventory(
    rng: random.Random, names: list[str], versions: dict[str, list[str]], count: int
) -> dict[str, object]:
    packages = []
    for name in rng.sample(names, count):
        version = rng.choice(versions[name])
        packages.append(
            {
                "name": name,
                "version": version,
                "source": name,
                "source_version": version,
                "arch": "amd64",
                "type": "deb",
                "purl": f"pkg:deb/debian/{name}@{version}",
            }
        )
    return {
        "schema": "imagevet/packages/v1",
        "os": {"id": "debian", "version_id": "12", "name": "Debian GNU/Linux", "family": "debian"},
        "packages": packages,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-ingest", action="store_true", help="Reuse the images already in --work.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="imagevet-service-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    # Advisories cover 30,000 package names (about Debian's number of source packages); images install
    # from the 3,000 most common, three versions each. Installed versions sit above most fixes (epoch 3),
    # as on a maintained image, except for a few stale packages (epoch 0) that are really vulnerable.
    names = [f"pkg{i:05d}" for i in range(30_000)]
    common = names[:3000]
    versions = {
        n: [
            f"{0 if rng.random() < 0.02 else 3}:{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}"
            for _ in range(3)
        ]
        for n in common
    }
    archive, advisories = work / "all.zip", work / "osv.sqlite3"
    if not advisories.exists():
        make_archive(archive, args.records, names, rng)
        subprocess.run([*IMAGEVET, "db", "import", str(archive), "--db", str(advisories)], check=True)
    url = args.database_url or f"sqlite:///{work / 'inventory.sqlite3'}"
    env_args = ["--database-url", url]
    token = subprocess.run(
        [*IMAGEVET, "token", "create", "--scope", "write", *env_args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [*IMAGEVET, "serve", *env_args, "--db", str(advisories), "--port", str(args.port)]
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_for_health(base)
        # Ingest: writers register images and push their packages reports.
        counter = iter(range(args.images))
        lock = threading.Lock()

        def writer(seed: int) -> None:
            local = random.Random(seed)
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                image = call(
                    base,
                    token,
                    "POST",
                    "/api/v1/images",
                    {"cloud": "aws", "image_id": f"ami-{index:017x}", "release": "debian-12"},
                )
                assert isinstance(image, dict)
                call(
                    base,
                    token,
                    "POST",
                    f"/api/v1/images/{image['id']}/reports",
                    inventory(local, common, versions, args.packages),
                )

        started = time.perf_counter()
        threads = [
            threading.Thread(target=writer, args=(n,)) for n in range(0 if args.skip_ingest else args.writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ingest = time.perf_counter() - started
        print(
            f"ingest images={args.images} packages_each={args.packages} writers={args.writers} "
            f"wall_s={ingest:.1f} images_per_s={args.images / ingest:.1f} "
            f"server_peak_rss_mb={peak_rss_mb(server.pid):.0f}"
        )

        started = time.perf_counter()
        job = call(base, token, "POST", "/api/v1/rescans")
        assert isinstance(job, dict)
        while True:
            state = call(base, token, "GET", f"/api/v1/jobs/{job['job']}")
            if isinstance(state, dict) and state["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        rescan = time.perf_counter() - started
        result = state.get("result") or {}
        print(
            f"rescan records={args.records} status={state['status']} wall_s={rescan:.1f} "
            f"matched_packages={result.get('matched_packages')} "
            f"exposed={len(result.get('newly_exposed', []))} "
            f"server_peak_rss_mb={peak_rss_mb(server.pid):.0f}"
        )

        # Latency: clients read image details and findings as a dashboard or CI would.
        latencies: list[float] = []
        stop = time.perf_counter() + args.seconds

        def client(seed: int) -> None:
            local = random.Random(seed)
            mine = []
            while time.perf_counter() < stop:
                image = local.randint(1, args.images)
                path = (
                    f"/api/v1/images/{image}" if local.random() < 0.5 else f"/api/v1/findings?image={image}"
                )
                began = time.perf_counter()
                call(base, token, "GET", path)
                mine.append(time.perf_counter() - began)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ordered = sorted(latencies)
        p95 = ordered[int(len(ordered) * 0.95)] * 1000
        print(
            f"latency clients={args.clients} requests={len(ordered)} rps={len(ordered) / args.seconds:.0f} "
            f"p50_ms={statistics.median(ordered) * 1000:.1f} p95_ms={p95:.1f} "
            f"p99_ms={ordered[int(len(ordered) * 0.99)] * 1000:.1f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
