"""A run imports only its own command's module (issue 19: start-up is most of an audit's time), and the
table that says which module registers which command is the truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagevet.cli import COMMAND_MODULES, MODULES
from tests.cli.support import run_in
from tests.support.cli import imagevet_env

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian"


def _imported(*args: str, cwd: Path) -> set[str]:
    """The modules a real run of ``imagevet ARGS`` had imported when it exited."""
    script = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        "from imagevet.cli import main\n"
        f"main({list(args)!r})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=imagevet_env(),
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_registers_the_commands_the_table_gives_it(module: str) -> None:
    script = (
        "import importlib, json, typer\n"
        "from imagevet.cli import common\n"
        f"importlib.import_module('imagevet.cli.{module}')\n"
        "print(json.dumps(sorted(typer.main.get_command(common.app.real()).commands)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == sorted(n for n, m in COMMAND_MODULES.items() if m == module)


def test_an_audit_imports_neither_other_commands_nor_the_service(tmp_path: Path) -> None:
    seen = _imported("audit", str(ROOT), "-f", "json", "--fail-on", "never", cwd=tmp_path)
    assert "imagevet.cli.audit" in seen
    unwanted = {f"imagevet.cli.{m}" for m in MODULES if m != "audit"} | {
        "imagevet.service.app",  # the package's vocabulary (names shared with --push) is all it may load
        "imagevet.service.db",
        "imagevet.pipeline",
        "boto3",
        "fastapi",
        "jinja2",
        "_hashlib",  # OpenSSL's bindings: the caches' digest is the built-in BLAKE2b (imagevet/digest.py)
        "concurrent.futures",  # the block reader's threads: only for a remote image
        "imagevet.waivers",  # only with --waivers
        "imagevet.vuln.matcher",  # only with an advisory database to match
    }
    assert not unwanted & seen, sorted(unwanted & seen)


def test_recommend_imports_only_the_images_commands(tmp_path: Path) -> None:
    seen = _imported("recommend", "--scenario", "web-api", "--cloud", "aws", "-f", "json", cwd=tmp_path)
    assert "imagevet.cli.images" in seen
    assert not {f"imagevet.cli.{m}" for m in MODULES if m != "images"} & seen


def test_help_without_a_command_lists_every_command_in_the_table_order(tmp_path: Path) -> None:
    code, out, _ = run_in(tmp_path, "--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.startswith("  ")]
    assert [name for name in listed if name in COMMAND_MODULES] == list(COMMAND_MODULES)


def test_a_settings_file_is_checked_against_every_command_even_when_one_runs(tmp_path: Path) -> None:
    """A section for another command is known (so the file is loaded with the whole tree), and a typo in
    it is still refused although the command run is not that one."""
    (tmp_path / "imagevet.yaml").write_text("# imagevet.yaml\nserve:\n  log-level: info\n")
    code, out, err = run_in(tmp_path, "audit", str(ROOT), "-f", "json", "--fail-on", "never")
    assert code in (0, 1), err
    assert json.loads(out)["schema"] == "imagevet/audit/v1"
    (tmp_path / "imagevet.yaml").write_text("# imagevet.yaml\nserve:\n  log-levle: info\n")
    code, _, err = run_in(tmp_path, "audit", str(ROOT), "-f", "json", "--fail-on", "never")
    assert code == 2 and "unknown setting in section 'serve'" in err, err


def test_a_root_option_value_is_not_taken_for_the_command(tmp_path: Path) -> None:
    """``--config audit.yaml recommend``: the command is recommend, not the value of --config."""
    (tmp_path / "audit").write_text("# imagevet.yaml\n")
    code, out, err = run_in(
        tmp_path, "--config", "audit", "recommend", "--scenario", "web-api", "--cloud", "aws", "-f", "json"
    )
    assert code == 0, err
    assert json.loads(out)["schema"] == "imagevet/recommend/v1"


@pytest.mark.parametrize("args", [["--help", "audit"], ["-h", "db"], ["-qh", "vuln"]])
def test_the_root_help_before_a_command_lists_every_command(tmp_path: Path, args: list[str]) -> None:
    code, out, _ = run_in(tmp_path, *args)
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.startswith("  ")]
    assert [name for name in listed if name in COMMAND_MODULES] == list(COMMAND_MODULES)
