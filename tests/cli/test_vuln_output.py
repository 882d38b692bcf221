"""How `imagevet vuln` writes its compact JSON: the UTF-8 bytes orjson made, as they are, to stdout when its
encoding is UTF-8 and to ``-o FILE``; anywhere else as text held to stdout's encoding, as every report is
(report/vuln.compact_json_utf8, cli/common._write_stdout). The database: one advisory whose summary is not
ASCII, for openssh 1:9.2p1-2+deb12u4 in a Debian 12 image (tests/support/advisories.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagevet.vuln.importer import import_into
from tests.support.advisories import debian_image_with, fresh_stamp
from tests.support.cli import IMAGEVET, imagevet_env

SUMMARY = "Überlauf in sshd — 溢出"


def record(advisory_id: str, summary: str) -> tuple[str, bytes]:
    data = {
        "id": advisory_id,
        "modified": "2026-01-01T00:00:00Z",
        "summary": summary,
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "openssh"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9.9"}]}],
            }
        ],
    }
    return f"{advisory_id}.json", json.dumps(data).encode()


@pytest.fixture
def scan(tmp_path: Path) -> list[str]:
    image = debian_image_with(tmp_path / "image", ("openssh-client", "openssh", "1:9.2p1-2+deb12u4"))
    database = tmp_path / "osv.sqlite3"
    import_into(database, iter([record("DSA-1", SUMMARY)]), "test", fresh_stamp())
    return ["vuln", str(image), "--db", str(database), "-f", "json", "--fail-on", "never"]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*IMAGEVET, *args], capture_output=True, env=imagevet_env(**env), timeout=120)


def test_the_bytes_on_stdout_and_in_a_file_are_one_utf8_document(scan: list[str], tmp_path: Path) -> None:
    shown = run(scan, PYTHONIOENCODING="utf-8")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["findings"][0]["summary"] == SUMMARY
    assert shown.stdout.endswith(b"}\n") and shown.stdout.count(b"\n") == 1
    written = run([*scan, "-o", str(tmp_path / "report.json")], PYTHONIOENCODING="utf-8")
    assert written.returncode == 0 and (tmp_path / "report.json").read_bytes() == shown.stdout


def test_an_encoding_that_cannot_say_the_report_fails_the_run_in_one_line(scan: list[str]) -> None:
    proc = run(scan, PYTHONIOENCODING="ascii")
    assert proc.returncode == 2 and proc.stdout == b""
    errors = [line for line in proc.stderr.splitlines() if line.startswith(b"imagevet: error:")]
    assert errors == [proc.stderr.splitlines()[-1]]  # after the notices (records imported one by one)
    assert errors[0].startswith(b"imagevet: error: cannot write to standard output: its encoding (ascii)")


def test_an_encoding_that_can_say_it_gets_it_in_that_encoding(scan: list[str]) -> None:
    """UTF-16 can say every character: the report arrives as UTF-16 text, not as UTF-8 bytes in a stream
    that says it is UTF-16."""
    proc = run(scan, PYTHONIOENCODING="utf-16")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.decode("utf-16"))["findings"][0]["summary"] == SUMMARY


def test_the_report_reaches_a_text_stream_without_a_binary_layer(scan: list[str]) -> None:
    """A caller's own sys.stdout (a StringIO, as a test harness has) gets text."""
    script = (
        "import io, sys\n"
        "sys.stdout = io.StringIO()\n"
        "from imagevet.cli.common import write_output\n"
        'write_output(b\'{"a":"\\xc3\\x9c"}\\n\')\n'
        "sys.__stdout__.write(repr(sys.stdout.getvalue()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == repr('{"a":"Ü"}\n')
