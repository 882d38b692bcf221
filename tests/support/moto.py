"""A real AWS API peer for tests: moto's standalone server on 127.0.0.1 (tests/provenance, tests/catalog).

`start_moto` runs moto's own server (its `moto.server.main`) in a subprocess, seeded with AMIs
(MOTO_AMIS_PATH, moto's own mechanism) and, optionally, with public SSM parameters under ``/aws/service/``
per region: AWS reserves that tree (PutParameter refuses it, as moto does), so the seed is loaded the way
moto loads its bundled Amazon Linux parameters, by a small wrapper (``moto_seeded_main`` below) that
extends moto's lazy loading before the server starts. ``env`` may set moto's own switches, such as
INITIAL_NO_AUTH_ACTION_COUNT (IAM policies enforced after that many calls).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_WRAPPER = """
import json, os, sys
from moto.ssm import models

_seed = json.load(open(os.environ["IMAGEVET_TEST_SSM_SEED"]))
_check = models.ParameterDict._check_loading_status

def _check_loading_status(self, key):
    _check(self, key)
    if str(key or "").startswith("/aws/service/") and not getattr(self, "_imagevet_seeded", False):
        self._imagevet_seeded = True
        if not self.latest_amis_loaded:  # moto's bundled Amazon Linux parameters first: the seed wins
            self._load_latest_amis()
            self.latest_amis_loaded = True
        for item in _seed.get(self.region_name, []):
            super(models.ParameterDict, self).__setitem__(item["Name"], [
                models.Parameter(
                    account_id=self.account_id, name=item["Name"], value=item["Value"],
                    parameter_type="String", description=None, allowed_pattern=None, keyid=None,
                    last_modified_date=1790000000.0, version=1, data_type="text",
                )
            ])

models.ParameterDict._check_loading_status = _check_loading_status
from moto.server import main
sys.exit(main(sys.argv[1:]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def start_moto(
    folder: Path,
    amis: list[dict[str, Any]],
    ssm: dict[str, list[dict[str, str]]] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """moto's server on a free port of 127.0.0.1, seeded; yields its endpoint URL."""
    folder.mkdir(parents=True, exist_ok=True)
    variables = dict(env or {})
    if ssm is None:
        command = [str(Path(sys.executable).with_name("moto_server"))]
    else:
        (folder / "ssm.json").write_text(json.dumps(ssm))
        (folder / "moto_seeded.py").write_text(_WRAPPER)
        variables["IMAGEVET_TEST_SSM_SEED"] = str(folder / "ssm.json")
        command = [sys.executable, str(folder / "moto_seeded.py")]
    with _run_moto(folder, amis, command, variables) as endpoint:
        yield endpoint


@contextmanager
def _run_moto(
    folder: Path, amis: list[dict[str, Any]], command: list[str], env: dict[str, str]
) -> Iterator[str]:
    """Run ``command`` (moto's server, or a wrapper around it) on a free port with the AMI seed, wait until
    it answers, and stop it on the way out."""
    (folder / "amis.json").write_text(json.dumps(amis))
    variables = {**os.environ, "MOTO_AMIS_PATH": str(folder / "amis.json"), **env}
    port = free_port()
    log = (folder / "moto.log").open("w")
    proc = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)], env=variables, stdout=subprocess.DEVNULL, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto_server did not start: {(folder / 'moto.log').read_text()[-500:]}")
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server ended: {(folder / 'moto.log').read_text()[-500:]}")
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def aws_environment(endpoint: str, folder: Path, region: str = "us-east-1") -> dict[str, str]:
    """Variables that point boto3 (in this process and in CLI subprocesses) at ``endpoint``, with
    throwaway credentials and no shared config."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(folder / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-credentials"),
    }


@contextmanager
def start_moto_patched(
    folder: Path, amis: list[dict[str, Any]], patch: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """moto's server like ``start_moto``, with ``patch`` (Python source) run in the server process before
    it starts: for behaviour moto lacks that a test needs to be AWS-shaped (tests/support/ebs.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "moto_patched.py").write_text(
        patch + "\nimport sys\nfrom moto.server import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    with _run_moto(folder, amis, [sys.executable, str(folder / "moto_patched.py")], env or {}) as endpoint:
        yield endpoint


def enforce_iam(endpoint: str, after: int = 0) -> None:
    """From now on (after ``after`` more requests) moto checks every request against IAM policies: moto's
    INITIAL_NO_AUTH_ACTION_COUNT, set at run time through its own ``/moto-api/reset-auth``."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=str(after).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would be parsed away before moto reads it
    )
    urllib.request.urlopen(request, timeout=5).close()
