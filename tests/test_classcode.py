"""The table of compiled dataclass methods (src/imagevet/classcode.py): a second run compiles nothing, the
code run is the code compile() makes, and a table that is damaged, foreign or not the user's own is
ignored (it costs the time it would save, never a result)."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagevet import cachedir, classcode

# Imports the modules behind most of an audit's dataclasses, then says what the table did and what the
# classes' methods compiled to (marshal, so that two runs compare byte for byte).
PROBE = """
import json, marshal, sys
import imagevet.model, imagevet.catalog.model, imagevet.checks.base, imagevet.facts.accounts
from imagevet import classcode
from imagevet.model import CheckResult, OsRelease, Package
from imagevet.catalog.model import Catalog
methods = [getattr(c, m).__code__ for c in (CheckResult, OsRelease, Package, Catalog)
           for m in ("__init__", "__repr__", "__eq__") if hasattr(getattr(c, m), "__code__")]
print(json.dumps({**classcode.stats(), "code": marshal.dumps(methods).hex()}))
"""


def probe(cache: str, tmp_path: Path, script: str = PROBE) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEVET_")}
    env.update(IMAGEVET_KNOWLEDGE_CACHE=cache, HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def table(folder: Path) -> Path:
    return folder / classcode.FILE


def test_a_second_run_compiles_nothing_and_runs_the_same_code(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    cold = probe(str(folder), tmp_path)
    assert cold["compiled"] > 100 and cold["reused"] == 0  # type: ignore[operator]
    assert table(folder).stat().st_mode & 0o777 == 0o600
    warm = probe(str(folder), tmp_path)
    assert warm["compiled"] == 0 and warm["reused"] == cold["compiled"]
    off = probe("off", tmp_path)
    assert off["compiled"] == off["reused"] == 0  # off: dataclasses compile as Python always does
    assert cold["code"] == warm["code"] == off["code"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00garbage\xff" * 100,
        marshal.dumps([1, 2, 3]),
        marshal.dumps({"text": 1}),
        marshal.dumps({1: compile("x = 1", "<string>", "exec")}),
        b"\xfb" * (classcode.MAX_BYTES + 1),
    ],
    ids=["empty", "garbage", "a list", "not code", "not text", "too large"],
)
def test_a_damaged_table_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "k"
    folder.mkdir(mode=0o700)
    table(folder).write_bytes(content)
    table(folder).chmod(0o600)
    run = probe(str(folder), tmp_path)
    assert run["compiled"] > 100 and run["reused"] == 0  # type: ignore[operator]
    assert isinstance(marshal.loads(table(folder).read_bytes()), dict)  # rewritten whole
    assert probe(str(folder), tmp_path)["compiled"] == 0


def test_a_table_or_folder_others_may_write_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    probe(str(folder), tmp_path)
    table(folder).chmod(0o666)  # anyone could have planted code in it
    assert probe(str(folder), tmp_path)["reused"] == 0
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert probe(str(shared), tmp_path)["reused"] == 0
    assert not table(shared).exists()  # nothing is written where others may write


def test_off_and_a_missing_home_keep_nothing(tmp_path: Path) -> None:
    probe("off", tmp_path)
    assert not (tmp_path / "home").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGEVET_", "XDG_"))}
    env["HOME"] = str(tmp_path / "nonexistent")
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_only_imagevets_own_classes_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    script = (
        "import dataclasses, imagevet\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class Outsider:\n"
        "    name_only_an_outsider_has: int = 0\n"
        "import json\nfrom imagevet import classcode\nprint(json.dumps(classcode.stats()))\n"
    )
    assert probe(str(folder), tmp_path, script)["compiled"] == 0
    assert b"name_only_an_outsider_has" not in table(folder).read_bytes() if table(folder).exists() else True


def test_private_means_the_users_own_and_no_one_elses_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    assert cachedir.private(path)  # not there yet
    path.write_text("x")
    path.chmod(0o600)
    assert cachedir.private(path)
    path.chmod(0o620)
    assert not cachedir.private(path)
    path.chmod(0o600)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)  # someone else's file
    assert not cachedir.private(path)
