"""The fast command-line parser (cli/fast.py) against Typer's: the table it reads is current, and for
every command line it accepts, Typer's tree hands the command the very same arguments; every command line
Typer refuses, it leaves to Typer (so the refusal keeps Typer's words).

The command lines are drawn at random (a fixed seed) from each command's own option names, values of
each option's type, the hostile cases (nan, ``--``, a flag given a value, a directory as --output, a NUL
byte, an unknown option) and their spellings (``--opt=V``, ``-fV``, grouped short flags, options after
arguments, repeated options), plus IMAGEVET_* variables."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imagevet.cli import _parser_error, build_command, fast, settings, spec
from imagevet.cli.common import set_quiet
from imagevet.errors import ImagevetError
from tests.cli.support import run_in

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian"


def test_the_table_is_current() -> None:
    """commands.json is what `python -m imagevet.cli.spec` writes from today's sources (run it after
    changing a command's options)."""
    assert json.loads(spec.SPEC_FILE.read_text()) == json.loads(json.dumps(spec.build_spec())), (
        "src/imagevet/cli/commands.json is stale: run `python -m imagevet.cli.spec`"
    )


def test_the_hot_commands_are_parsed_without_typer() -> None:
    table = json.loads(spec.SPEC_FILE.read_text())["root"]
    for name in ("audit", "recommend", "vuln", "packages", "compliance", "lifecycle", "verify"):
        assert table["commands"][name]["fast"], name
    assert table["commands"]["db"]["commands"]["update"]["fast"]


def test_an_audit_never_imports_typer(tmp_path: Path) -> None:
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'click', 'rich')), file=sys.stderr))\n"
        "from imagevet.cli import main\n"
        f"main(['audit', {str(ROOT)!r}, '-f', 'json', '--fail-on', 'never'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if not k.startswith("IMAGEVET_")},
                          timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_a_stale_table_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "sources_digest", lambda: "0" * 64)
    assert fast.load_spec() is None
    assert fast.prepare(["audit", str(ROOT)], {}) is None


def test_a_damaged_table_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for text in ("", "{", "[]", '{"format": 1}', '{"format": 1, "sources": null}', "\0" * 10):
        damaged = tmp_path / "commands.json"
        damaged.write_text(text)
        monkeypatch.setattr(fast, "SPEC_FILE", damaged)
        assert fast.load_spec() is None, text
    monkeypatch.setattr(fast, "SPEC_FILE", tmp_path / "missing.json")
    assert fast.load_spec() is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-q"],
        ["--help"],
        ["audit", "-h"],
        ["audit", "-qh"],
        ["audit", "x", "--", "-y"],
        ["audit", "x", "y"],
        ["audit", "--format", "xml"],
        ["audit", "--lifecycle-years", "nan"],
        ["audit", "--lifecycle-years", "-1"],
        ["audit", "--concurrency", "1.5"],
        ["audit", "--sudo=yes"],
        ["audit", "--nope"],
        ["audit", "--format"],
        ["audit", "--install-completion"],
        ["recommend"],
        ["db"],
        ["nosuchcommand"],
        ["--install-completion"],
    ],
)
def test_what_typer_must_say_is_left_to_typer(argv: list[str]) -> None:
    assert fast.prepare(argv, {}) is None


# --- the differential test ------------------------------------------------------------------------------


class Called(Exception):
    def __init__(self, kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.kwargs = kwargs


def _record(**kwargs: Any) -> None:
    raise Called(kwargs)


def _typer_wrapper(callback: Any) -> Any:
    while "use_convertors" not in (callback.__code__.co_freevars or ()):
        callback = callback.__wrapped__
    return callback


@pytest.fixture(scope="module")
def typer_tree() -> Iterator[Any]:
    """Typer's whole tree with every command's function replaced by a recorder of its arguments."""
    root = build_command()
    swapped: list[tuple[Any, Any]] = []
    stack = list(settings.subcommands(root).values())
    while stack:
        command = stack.pop()
        stack += settings.subcommands(command).values()
        if command.callback is None or settings.subcommands(command):
            continue
        wrapper = _typer_wrapper(command.callback)
        cell = wrapper.__closure__[wrapper.__code__.co_freevars.index("callback")]
        swapped.append((cell, cell.cell_contents))
        cell.cell_contents = _record
    yield root
    for cell, original in swapped:
        cell.cell_contents = original


def _outcome(run: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        run()
    except Called as called:
        return ("call", called.kwargs)
    except SystemExit as stop:
        return ("exit", stop.code)
    except ImagevetError as error:
        return ("error", str(error))
    except Exception as error:
        if type(error).__name__ == "NoArgsIsHelpError" or _parser_error(error) is not None:
            return ("usage",)
        raise
    return ("returned",)


def typer_outcome(root: Any, argv: list[str], environ: dict[str, str]) -> tuple[Any, ...]:
    def run() -> None:
        defaults = settings.defaults_for(settings.command_path(root, argv), None, environ)
        root.main(args=argv, prog_name="imagevet", standalone_mode=False, default_map=defaults.default_map)

    try:
        return _outcome(run)
    except settings.SettingsError:
        return ("settings",)


def fast_outcome(argv: list[str], environ: dict[str, str]) -> tuple[Any, ...]:
    prepared = fast.prepare(argv, environ)
    if prepared is None:
        return ("typer",)
    if len(prepared.levels) > 1:
        prepared.levels[-1].function = _record
    return _outcome(prepared.run)


def _values(entry: dict[str, Any], spare: Path) -> list[str]:
    kind = entry.get("type", ["str"])
    if kind[0] == "choice":
        return [*kind[1], "nope", kind[1][0].upper()]
    if kind[0] in ("int", "float"):
        return ["1", "0", "-1", "16", "2.5", "1e400", "nan", "inf", "abc", "", " 3"]
    if kind[0] == "path":
        return [str(spare), str(spare.parent), "/nonexistent/x/y", "-", "rel/file"]  # no NUL: argv cannot
    return ["x", "", "-", "--", "a,b", "é", "-q"]


def _command_lines(table: dict[str, Any], spare: Path, rng: random.Random) -> Iterator[list[str]]:
    leaves: list[tuple[list[str], dict[str, Any]]] = []
    stack: list[tuple[list[str], dict[str, Any]]] = [([], table["root"])]
    while stack:
        words, node = stack.pop()
        if node["commands"]:
            stack += [([*words, name], child) for name, child in node["commands"].items()]
        elif node["fast"]:
            leaves.append((words, node))
    junk = ["--nope", "-Z", "--", "-h", "--help", "--version", "x", "y", "-", "--format=", "-q"]
    for _ in range(1500):
        words, node = rng.choice(leaves)
        line = ["-q"] if rng.random() < 0.1 else []
        line += words
        for _ in range(rng.randint(0, 6)):
            entry = rng.choice(node["params"])
            roll = rng.random()
            if roll < 0.1:
                line.append(rng.choice(junk))
            elif entry["kind"] == "argument" or entry.get("slow"):
                line.append(rng.choice(_values(entry, spare)) if not entry.get("slow") else entry["opts"][0])
            elif entry["flag"]:
                names = entry["opts"] + entry["secondary"]
                line.append(rng.choice(names) + ("=1" if roll > 0.97 else ""))
            else:
                name, value = rng.choice(entry["opts"]), rng.choice(_values(entry, spare))
                if roll < 0.3 and name.startswith("--"):
                    line.append(f"{name}={value}")
                elif roll < 0.4 and len(name) == 2:
                    line.append(name + value)
                elif roll > 0.98:
                    line.append(name)  # no value at the end, or the next word taken as the value
                else:
                    line += [name, value]
        yield line


def _environments(rng: random.Random) -> dict[str, str]:
    choices = [
        {},
        {"IMAGEVET_FORMAT": "json"},
        {"IMAGEVET_FORMAT": "nope"},
        {"IMAGEVET_FAIL_ON": "medium", "IMAGEVET_ALLOW_ERRORS": "yes"},
        {"IMAGEVET_TIMEOUT": "nan"},
        {"IMAGEVET_QUIET": "1"},
        {"IMAGEVET_ECOSYSTEM": "Debian:12,Alpine:v3.20"},
        {"IMAGEVET_TOKEN": "t0k"},
        {"AWS_REGION": "eu-west-1"},
        {"IMAGEVET_CHECKS": "a\nb"},
    ]
    return dict(rng.choice(choices))


def test_both_parsers_hand_every_command_the_same_arguments(
    typer_tree: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = json.loads(spec.SPEC_FILE.read_text())
    spare = tmp_path / "out" / "report.json"
    spare.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    rng = random.Random(19)
    compared = fast_taken = 0
    for line in _command_lines(table, spare, rng):
        environ = _environments(rng)
        for name in ("IMAGEVET_TOKEN", "AWS_REGION"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)  # Click reads an option's own variable from os.environ
        theirs = typer_outcome(typer_tree, line, environ)
        set_quiet(False)
        ours = fast_outcome(line, environ)
        set_quiet(False)
        compared += 1
        if ours == ("typer",):
            continue
        fast_taken += 1
        assert ours == theirs, (line, environ)
        if ours[0] == "call":
            assert [type(v) for v in ours[1].values()] == [type(v) for v in theirs[1].values()], line
    assert compared == 1500
    assert fast_taken > 300, fast_taken  # the fast parser takes the ordinary command lines


def test_a_run_through_either_parser_reports_alike(tmp_path: Path) -> None:
    args = ["audit", str(ROOT), "-f", "json", "--fail-on", "never", "--as-of", "2026-01-01"]
    fast_run = run_in(tmp_path, *args)
    typer_run = run_in(tmp_path, *args, IMAGEVET_FAST_CLI="off")
    assert fast_run == typer_run
    assert fast_run[0] == 0
    bad = run_in(tmp_path, "audit", str(ROOT), "--format", "xml")
    assert bad == run_in(tmp_path, "audit", str(ROOT), "--format", "xml", IMAGEVET_FAST_CLI="off")
    assert bad[0] == 2
