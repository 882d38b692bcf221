"""A hardening script interrupted by SIGTERM (a build tool's timeout), SIGINT (Ctrl-C, sent to the whole
process group) or SIGHUP leaves no half-written file and none of its own temporary files: each target is
as it was or complete. The real bash runs the rendered script; the signal lands at spread-out moments of a
run that writes many files (after the Nth write, a few ms into the next one), so most of them arrive in
the middle of a write."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from imagevet.harden.bash import render_bash
from imagevet.harden.plan import Fix, Plan
from imagevet.model import RemediationStep

FILES = 60
CONTENT = "".join(f"key.{n} = {'x' * 200}\n" for n in range(400))  # ~80 KB


def plan(directory: Path) -> Plan:
    fixes = tuple(
        Fix(
            f"check-{n}",
            "t",
            "low",
            (RemediationStep("file", CONTENT, str(directory / f"d{n % 7}/f{n}.conf")),),
        )
        for n in range(FILES)
    )
    return Plan("t", "os", "imagevet", fixes)


def start(script: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def state(directory: Path) -> tuple[int, list[str]]:
    """(complete targets, anything else found: temporary files, partial targets)."""
    complete, other = 0, []
    for path in sorted(directory.rglob("*")):
        if path.is_dir():
            continue
        if path.name.endswith(".conf") and path.read_text() == CONTENT:
            complete += 1
        else:
            other.append(path.name)
    return complete, other


@pytest.mark.parametrize(
    ("how", "status"),
    [("TERM to the script", 143), ("INT to the process group", 130), ("HUP to the script", 129)],
)
def test_an_interrupted_run_leaves_no_half_written_or_temporary_file(
    how: str, status: int, tmp_path: Path
) -> None:
    number = {"TERM": signal.SIGTERM, "INT": signal.SIGINT, "HUP": signal.SIGHUP}[how.split()[0]]
    interrupted = 0
    for attempt, after in enumerate((1, 5, 20, 40, 58)):
        directory = tmp_path / f"run{attempt}"
        script = tmp_path / f"run{attempt}.sh"
        script.write_text(render_bash(plan(directory)))
        proc = start(script)
        assert proc.stdout is not None
        written = 0
        while written < after:  # the signal follows the AFTERth write, a few ms into the next one
            written += "imagevet: wrote" in proc.stdout.readline()
        time.sleep(0.003 * (attempt % 5))
        if "group" in how:
            os.killpg(proc.pid, number)
        else:
            proc.send_signal(number)
        _, stderr = proc.communicate(timeout=60)  # a hang (bash spinning in its handler) fails here
        complete, other = state(directory)
        assert other == [], f"{how} after {after} write(s): left {other[:5]}"
        if proc.returncode == 0 and "group" in how:
            # bash 5.2 now and then loses a SIGINT that reaches the whole group; the run then goes on to
            # its end, and its read-back vouches for every file
            assert complete == FILES
        elif proc.returncode == 1 and "group" in how:
            # ... or it skipped a step on the way: the read-back names the file, and the run fails
            assert "does not hold what the fix for" in stderr, stderr
        else:
            assert proc.returncode == status, f"{how} after {after} write(s): exit {proc.returncode}"
            # a signal after the last write (the script is cleaning up) still ends it with the status
            assert after <= complete <= FILES
            interrupted += 1
    assert interrupted >= 3


SHIMS = {
    # after the temporary copy is complete, before its rename: the script itself gets SIGTERM
    "chmod": '#!/bin/sh\nkill -TERM "$PPID"\nexec /bin/chmod "$@"\n',
    # half-way through the copy: Ctrl-C, to the whole process group (cat dies of it)
    "cat": "#!/bin/sh\nhead -c 1000\nkill -INT 0\nsleep 5\n",
}


@pytest.mark.parametrize(("tool", "status"), [("chmod", 143), ("cat", 130)])
def test_a_signal_inside_the_write_window_leaves_nothing(tool: str, status: int, tmp_path: Path) -> None:
    """The window where a temporary file exists, hit every time: a program of the write (first in PATH)
    raises the signal at that moment. The target keeps its old content, the temporary file is gone."""
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / tool).write_text(SHIMS[tool])
    (shims / tool).chmod(0o755)
    target = tmp_path / "etc/app.conf"
    target.parent.mkdir()
    target.write_text("old\n")
    script = tmp_path / "fix.sh"
    step = RemediationStep("file", CONTENT, str(target))
    script.write_text(render_bash(Plan("t", "os", "imagevet", (Fix("check-1", "t", "low", (step,)),))))
    proc = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60, start_new_session=True,
        env={**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert proc.returncode == status, proc.stderr
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["app.conf"]


def test_a_step_that_claims_success_without_doing_its_work_fails_the_run(tmp_path: Path) -> None:
    """The read-back at the end: an `mv` that exits 0 having renamed nothing (the shape of every step
    bash or a broken tool can skip silently) leaves the target as it was, and the run exits 1 naming
    the file and its fix, never "hardening applied"."""
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "mv").write_text("#!/bin/sh\nexit 0\n")
    (shims / "mv").chmod(0o755)
    target = tmp_path / "etc/app.conf"
    target.parent.mkdir()
    target.write_text("old\n")
    untouched = tmp_path / "etc/same.conf"
    untouched.write_text("same\n")  # already right: nothing to rename, and the read-back agrees
    steps = (("check-1", RemediationStep("file", CONTENT, str(target))),
             ("check-2", RemediationStep("file", "same\n", str(untouched))))  # fmt: skip
    fixes = tuple(Fix(check, "t", "low", (step,)) for check, step in steps)
    script = tmp_path / "fix.sh"
    script.write_text(render_bash(Plan("t", "os", "imagevet", fixes)))
    proc = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert f"imagevet: {target} does not hold what the fix for check-1 wrote" in proc.stderr
    assert "check-2" not in proc.stderr and "hardening applied" not in proc.stdout
    assert target.read_text() == "old\n"
