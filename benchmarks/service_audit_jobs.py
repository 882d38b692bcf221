"""Audits run by the service (issue 10): queue N audit jobs of one root through the API and measure how
long the service takes to run them all in-process (its pool of two job threads), and its peak memory.

    python benchmarks/service_audit_jobs.py ROOT [--jobs 20] [--profile checklist] [--db OSV.sqlite3]
                                            [--port 18766]

ROOT is an unpacked image root (the test suite's debootstrap root is a good one). The service runs as a
user runs it: `imagevet token create --scope admin`, then `imagevet serve` in its own process on
127.0.0.1 with a SQLite database. Peak memory is the server process's VmHWM.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service_speed import IMAGEVET, call, peak_rss_mb, wait_for_health


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--profile", default="checklist")
    parser.add_argument("--db", type=Path, default=None, help="Advisory database (optional).")
    parser.add_argument("--port", type=int, default=18766)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imagevet-audit-jobs-"))
    url = ["--database-url", f"sqlite:///{work / 'inventory.sqlite3'}"]
    token = subprocess.run([*IMAGEVET, "token", "create", "--scope", "admin", *url],
                           check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    db = ["--db", str(args.db)] if args.db else ["--db", str(work / "none.sqlite3")]
    server = subprocess.Popen([*IMAGEVET, "serve", *url, *db, "--port", str(args.port)])
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_for_health(base)
        body = {"target": str(args.root.resolve()), "profile": args.profile}
        started = time.monotonic()
        jobs = []
        for number in range(args.jobs):
            image = call(
                base, token, "POST", "/api/v1/images", {"cloud": "onprem", "image_id": f"img-{number}"}
            )
            assert isinstance(image, dict)
            job = call(base, token, "POST", f"/api/v1/images/{image['id']}/audits", body)
            assert isinstance(job, dict)
            jobs.append(job["job"])
        states: list[dict[str, object]] = []
        while True:
            states = [
                s
                for s in (call(base, token, "GET", f"/api/v1/jobs/{j}") for j in jobs)
                if isinstance(s, dict)
            ]
            if all(s["status"] in ("done", "failed") for s in states):
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        failed = [s for s in states if s["status"] != "done"]
        if failed:
            print(f"{len(failed)} job(s) failed: {failed[0]['result']}", file=sys.stderr)
            return 1
        packages = [s["result"]["packages"] for s in states if isinstance(s["result"], dict)]
        print(f"{args.jobs} audit jobs ({args.profile}, {packages[0]} packages each) of {args.root}: "
              f"{elapsed:.1f} s in all, {args.jobs / elapsed:.2f} jobs/s; "
              f"server peak {peak_rss_mb(server.pid):.0f} MB")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
