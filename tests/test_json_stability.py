"""The JSON of every command on the fixture roots, compared with what it printed before the reshaping
(issue 18): a refactor must not change what users and their pipelines read.

The golden files under tests/golden/ were written by this test (``IMAGEVET_WRITE_GOLDEN=1``) at the commit
before the reshaping began. A document may gain fields; every field it had must keep its value. Values
that change from run to run (timestamps, temporary paths, serial numbers, database ages) are normalised
first, and nothing else.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, FIXTURES, PROJECT
from tests.support.advisories import import_records
from tests.support.cli import imagevet_env, run_imagevet

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOTS = FIXTURES / "rootfs"
ROOT_NAMES = sorted(p.name for p in ROOTS.iterdir() if p.is_dir())
FLEET = Path(__file__).resolve().parent / "golden" / "fleet-local-roots.list"  # the fixture roots, one a line

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_VOLATILE_NUMBERS = frozenset({"age_days", "elapsed", "seconds", "duration"})
# Values derived from the checkout's absolute path (the SPDX namespace hashes the target's path).
_PATH_DERIVED = frozenset({"documentNamespace"})
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def _cases() -> list[tuple[str, list[str]]]:
    cases: list[tuple[str, list[str]]] = []
    for name in ROOT_NAMES:
        root = str(ROOTS / name)
        cases.append((f"audit-{name}", ["audit", root, AS_OF, "--profile", "all", "-f", "json"]))
        cases.append((f"packages-{name}", ["packages", root, "-f", "json"]))
    for name in ("hardened-debian", "weak-rocky9"):
        root = str(ROOTS / name)
        cases.append((f"audit-sarif-{name}", ["audit", root, AS_OF, "--profile", "all", "-f", "sarif"]))
        for framework in ("cis-l1", "mlps-l3", "pci-dss"):
            argv = ["compliance", root, AS_OF, "--framework", framework, "-f", "json"]
            cases.append((f"compliance-{framework}-{name}", argv))
        for cloud in ("aws", "azure", "gcp", "alibaba", "tencent"):
            argv = ["audit", root, AS_OF, "--cloud", cloud, "--profile", "all", "-f", "json"]
            cases.append((f"audit-cloud-{cloud}-{name}", argv))
    hardened = str(ROOTS / "hardened-debian")
    cases += [
        ("audit-default-hardened-debian", ["audit", hardened, AS_OF, "-f", "json"]),
        (  # a container image: the cloud readiness checks skip
            "audit-cloud-aws-alpine-container",
            [
                "audit",
                str(ROOTS / "alpine-container"),
                AS_OF,
                "--cloud",
                "aws",
                "--profile",
                "all",
                "-f",
                "json",
            ],
        ),
        ("packages-cyclonedx-hardened-debian", ["packages", hardened, "-f", "cyclonedx"]),
        ("packages-spdx-hardened-debian", ["packages", hardened, "-f", "spdx"]),
        ("vuln-hardened-debian", ["vuln", hardened, AS_OF, "-f", "json"]),
        ("vuln-sarif-hardened-debian", ["vuln", hardened, AS_OF, "-f", "sarif"]),
        ("checks", ["checks", "-f", "json"]),
        ("lifecycle", ["lifecycle", AS_OF, "-f", "json"]),
        ("db-status", ["db", "status", "-f", "json"]),
        ("catalog-images", ["catalog", "images", "-f", "json"]),
        ("fleet-local-roots", ["audit", "--inventory", str(FLEET), AS_OF, "-f", "json"]),
    ]
    scenarios = (
        "web-api",
        "java-microservice",
        "bigdata-ml",
        "high-security",
        "legacy-migration",
        "k8s-node",
    )
    for scenario in (*scenarios, "container-host", "database-host"):
        for cloud in ("aws", "azure", "gcp", "alibaba", "tencent"):
            argv = ["recommend", "-s", scenario, "--cloud", cloud, AS_OF, "-f", "json"]
            cases.append((f"recommend-{scenario}-{cloud}", argv))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    database = tmp_path_factory.mktemp("stability") / "osv.sqlite3"
    import_records(database)
    yield database


def normalise(value: Any, key: str = "", *, replace: dict[str, str]) -> Any:
    """``value`` with the run-dependent parts replaced by placeholders."""
    if isinstance(value, dict):
        return {k: normalise(v, k, replace=replace) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key, replace=replace) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key in _VOLATILE_NUMBERS:
        return 0
    if isinstance(value, str) and key in _PATH_DERIVED:
        return _HEX_DIGEST.sub("<digest>", value)
    if isinstance(value, str):
        for real, placeholder in replace.items():
            value = value.replace(real, placeholder)
        return _UUID.sub("<uuid>", _TIMESTAMP.sub("<timestamp>", value))
    return value


def missing_or_changed(golden: Any, now: Any, where: str = "$") -> list[str]:
    """Every place where ``now`` lost or changed what ``golden`` held (new dictionary keys are allowed)."""
    if isinstance(golden, dict):
        if not isinstance(now, dict):
            return [f"{where}: was an object, now {type(now).__name__}"]
        problems: list[str] = []
        for key, value in golden.items():
            if key not in now:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += missing_or_changed(value, now[key], f"{where}.{key}")
        return problems
    if isinstance(golden, list):
        if not isinstance(now, list) or len(now) != len(golden):
            return [f"{where}: was a list of {len(golden)}, now {now!r:.200}"]
        return [
            p
            for i, (g, n) in enumerate(zip(golden, now, strict=True))
            for p in missing_or_changed(g, n, f"{where}[{i}]")
        ]
    return [] if golden == now else [f"{where}: was {golden!r:.200}, now {now!r:.200}"]


@pytest.mark.parametrize(("name", "argv"), CASES, ids=[name for name, _ in CASES])
def test_json_is_what_it_was(name: str, argv: list[str], advisory_db: Path) -> None:
    env = imagevet_env(drop=(), IMAGEVET_DB=str(advisory_db), COLUMNS="100")
    proc = run_imagevet(*argv, env=env, cwd=PROJECT)  # the fleet list names ./tests/fixtures/...
    assert proc.returncode in (0, 1), proc.stderr
    replace = {str(advisory_db): "<db>", str(FIXTURES): "<fixtures>", str(advisory_db.parent): "<tmp>"}
    now = normalise(json.loads(proc.stdout), replace=replace)
    now_with_exit = {"exit": proc.returncode, "document": now}
    path = GOLDEN / f"{name}.json"
    if os.environ.get("IMAGEVET_WRITE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(now_with_exit, indent=1, sort_keys=True) + "\n")
        return
    golden = json.loads(path.read_text())
    problems = missing_or_changed(golden, now_with_exit)
    assert not problems, "\n".join(problems[:20])
