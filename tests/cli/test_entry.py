"""The console script's process (cli/entry.py): it ends without tearing the interpreter down, and still
ends as ``sys.exit`` would — the same status, the exit handlers run, the output delivered or the run
failed, other threads waited for. Every test runs a real process: in-process, nothing of this happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import IMAGEVET, imagevet_env

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian"


def _env() -> dict[str, str]:
    """Without IMAGEVET_* settings, and with Python's own buffering (PYTHONUNBUFFERED would write every
    line at once, leaving nothing for the end to flush)."""
    return imagevet_env(drop=("IMAGEVET_", "PYTHONUNBUFFERED"))


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "env": _env(), **kwargs}
    return subprocess.run(argv, text=True, timeout=60, **streams)  # type: ignore[call-overload,no-any-return]


def _python(script: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-c", script], **kwargs)


def _imagevet(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return _run([*IMAGEVET, *args], **kwargs)


def test_the_console_script_is_the_entry() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'imagevet = "imagevet.cli.entry:run"' in text


def test_a_run_gives_mains_status_and_output(tmp_path: Path) -> None:
    in_process = _python(
        f"from imagevet.cli import main\nmain(['audit', {str(ROOT)!r}, '-f', 'json', '--fail-on', 'never'])",
        cwd=tmp_path,
    )
    entry = _imagevet("audit", str(ROOT), "-f", "json", "--fail-on", "never", cwd=tmp_path)
    assert (entry.returncode, entry.stdout) == (in_process.returncode, in_process.stdout) == (0, entry.stdout)
    assert entry.stdout.startswith("{")
    refused = _imagevet("audit", str(tmp_path / "absent"))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "does not exist" in refused.stderr


@pytest.mark.parametrize(
    ("code", "status", "said"),
    [("None", 0, ""), ("0", 0, ""), ("3", 3, ""), ("True", 1, ""), ("256 + 7", 7, ""), ("'bye'", 1, "bye\n")],
)
def test_the_status_is_sys_exits(code: str, status: int, said: str) -> None:
    proc = _python(f"from imagevet.cli.entry import leave\nleave({code})")
    assert (proc.returncode, proc.stderr) == (status, said)


def test_exit_handlers_run_and_the_threshold_is_raised() -> None:
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('handler', gc.get_threshold()[0]))\n"
        "sys.argv = ['imagevet', '--version']\n"
        "from imagevet.cli.entry import run\nrun()\n"
    )
    proc = _python(script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["imagevet 0.1.0", "handler 50000"]


def test_buffered_output_is_delivered_before_the_end() -> None:
    """os._exit drops what sits in Python's buffers; leave() flushes them first."""
    proc = _python("import sys\nsys.stdout.write('x' * 100)\nfrom imagevet.cli.entry import leave\nleave(0)")
    assert (proc.returncode, proc.stdout) == (0, "x" * 100)


def test_another_thread_is_waited_for(tmp_path: Path) -> None:
    done = tmp_path / "done"
    script = (
        "import threading, time, pathlib\n"
        f"def work():\n    time.sleep(0.3)\n    pathlib.Path({str(done)!r}).write_text('ok')\n"
        "threading.Thread(target=work).start()\n"
        "from imagevet.cli.entry import leave\nleave(4)\n"
    )
    proc = _python(script)
    assert proc.returncode == 4
    assert done.read_text() == "ok"


def test_output_that_cannot_be_written_fails_the_run() -> None:
    with open("/dev/full", "w") as full:
        audit = _imagevet("audit", str(ROOT), "-f", "json", "--fail-on", "never", stdout=full)
        version = _imagevet("--version", stdout=full)
        late = _python("import sys\nsys.stdout.write('x')\nfrom imagevet.cli.entry import leave\nleave(0)",
                       stdout=full)  # fmt: skip
    for proc in (audit, version):
        assert proc.returncode == 2
        assert proc.stderr == "imagevet: error: cannot write to standard output: No space left on device\n"
    assert late.returncode == 1
    assert late.stderr == "imagevet: cannot write the output: [Errno 28] No space left on device\n"


def test_a_reader_that_leaves_ends_the_run_quietly() -> None:
    """Output still buffered when the reader has gone (`| head`): exit 1, no traceback, as main() does
    for a broken pipe while writing."""
    script = (
        "import sys, time\nsys.stdout.write('x')\ntime.sleep(1)\n"
        "from imagevet.cli.entry import leave\nleave(0)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    assert proc.wait(timeout=60) == 1
    assert proc.stderr.read() == b""


def test_a_closed_stdout_fails_the_run_in_one_line() -> None:
    """Started with stdout closed (`>&-`), Python has no sys.stdout at all: exit 2 and the reason."""
    for args in (("--version",), ("audit", str(ROOT), "-f", "json", "--fail-on", "never")):
        proc = subprocess.run([*IMAGEVET, *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=_env(), timeout=60,
                              preexec_fn=lambda: os.close(1))  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == "imagevet: error: cannot write to standard output: Bad file descriptor\n"


def test_a_closed_stdout_does_not_disturb_an_output_file(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.run([*IMAGEVET, "audit", str(ROOT), "-f", "json", "--fail-on",
                           "never", "-o", str(report)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, env=_env(), timeout=60, preexec_fn=lambda: os.close(1))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert report.read_text().startswith("{")


def test_a_signal_after_main_ends_the_process_as_the_signal_does() -> None:
    """An exit handler still running when SIGTERM comes: the process dies of the signal (-15 here, 143 in
    a shell), with no traceback from main()'s handler."""
    script = (
        "import atexit, os, signal, sys, time\n"
        "from imagevet.cli import Stopped, _stop\n"
        "signal.signal(signal.SIGTERM, _stop)\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(5)))\n"
        "from imagevet.cli.entry import leave\nleave(0)\n"
    )
    proc = _python(script)
    assert proc.returncode == -15
    assert "Traceback" not in proc.stderr


def test_unbuffered_output_is_never_cut_short() -> None:
    """Under PYTHONUNBUFFERED the text layer ignores a short write; a non-blocking pipe whose reader is
    slow takes 64 KB at a time: the whole report arrives, or the run fails (here: it waits for the pipe
    via the loop and the reader takes everything)."""
    script = (
        "import fcntl, os, sys\n"
        "fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)\n"
        "sys.argv = ['imagevet', 'recommend', '--scenario', 'web-api', '--cloud', 'aws',"
        " '--format', 'json']\n"
        "from imagevet.cli.entry import run\nrun()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**_env(), "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    time.sleep(1.5)  # the writer meets a full pipe
    out, err = proc.communicate(timeout=60)
    complete = proc.returncode == 0 and out.endswith(b"}\n")
    refused = proc.returncode == 2 and err.count(b"\n") == 1 and b"cannot write to standard output" in err
    assert complete or refused, (proc.returncode, len(out), err[-300:])
    assert len(out) > 65536 or refused


def test_an_encoding_that_cannot_say_it_fails_the_run_in_one_line() -> None:
    proc = _imagevet("recommend", "--scenario", "web-api", "--cloud", "aws",
                     env={**_env(), "PYTHONIOENCODING": "ascii"})  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("imagevet: error: cannot write to standard output: its encoding (ascii)")
    assert proc.stderr.count("\n") == 1


def test_stderr_that_cannot_be_written_changes_no_exit_status(tmp_path: Path) -> None:
    """A refusal is 2 and a verdict is itself when stderr is a full disk or closed: the message is lost
    (there is nowhere to say it), not the status (it was 1, from a traceback nobody could see)."""
    with open("/dev/full", "w") as full:
        refused = _imagevet("audit", str(tmp_path / "absent"), stderr=full)
        passed = _imagevet("audit", str(ROOT), "-f", "json", "--fail-on", "never", stderr=full)
        flagged = _imagevet("audit", "--no-such-option", stderr=full)
    closed = _run([*IMAGEVET, "audit", str(tmp_path / "absent")], stderr=None, close_fds=True,
                  preexec_fn=lambda: os.close(2))  # fmt: skip
    assert (refused.returncode, flagged.returncode, closed.returncode) == (2, 2, 2)
    assert passed.returncode == 0 and passed.stdout.startswith("{")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_cli_starts_is_answered_without_a_traceback(signum: int, status: int) -> None:
    """Ctrl-C or SIGTERM at any moment of the start once the entry runs (the CLI's imports, the parse of
    the command line, before and after main() installs its handler): the process says it was stopped,
    or ends as the signal does, or has finished; never a traceback. The signal comes from a timer in
    the process itself, so each delay lands at a known distance from the entry's first line. (Before
    that line, while the interpreter and the imagevet package itself are imported, a Ctrl-C is still
    Python's: docs/cli.md.)"""
    seen: set[int] = set()
    for step in range(24):
        script = (
            "import os, sys, threading\n"
            "from imagevet.cli import entry\n"
            "sys.argv = ['imagevet', 'recommend', '--scenario', 'web-api', '--cloud', 'aws']\n"
            f"threading.Timer({0.002 + step * 0.003}, os.kill, (os.getpid(), {int(signum)})).start()\n"
            "entry.run()\n"
        )
        proc = _python(script, stdout=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, (step, proc.stderr[-600:])
        assert proc.returncode in (status, -signum, 0), (step, proc.returncode, proc.stderr[-300:])
        if proc.returncode == status:
            assert proc.stderr.endswith("terminated\n" if signum == signal.SIGTERM else "interrupted\n")
        seen.add(proc.returncode)
    assert status in seen  # some signal did arrive during the start
