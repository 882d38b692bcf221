"""The CLI's side of remote disk images (cli/remote.py, report/source.py): where the block cache lives,
the progress line on a terminal, and the line that says what reading an image cost."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from imagevet.cli import remote
from imagevet.model import SourceInfo
from imagevet.report.source import size_text, source_line
from imagevet.target.blocks import ReadStats


def test_the_block_cache_directory() -> None:
    home = Path("/home/u")
    assert remote.block_cache_dir({}, home) == home / ".cache/imagevet/blocks"
    assert remote.block_cache_dir({"XDG_CACHE_HOME": "/c"}, home) == Path("/c/imagevet/blocks")
    assert remote.block_cache_dir({"XDG_CACHE_HOME": "relative"}, home) == home / ".cache/imagevet/blocks"
    assert remote.block_cache_dir({"IMAGEVET_BLOCK_CACHE": "/b"}, home) == Path("/b")
    for off in ("off", "OFF", "0", "none", "false"):
        assert remote.block_cache_dir({"IMAGEVET_BLOCK_CACHE": off, "XDG_CACHE_HOME": "/c"}, home) is None


def test_what_reading_cost_in_one_line() -> None:
    source = SourceInfo("http", "https://mirror.example/noble.qcow2?…", 2 << 30, 262144, 47, 12_373_196, 0)
    assert source_line(source) == (
        "read 11.8 MiB of 2.0 GiB (0.58%) in 47 requests: https://mirror.example/noble.qcow2?…"
    )
    cached = SourceInfo("ebs", "ami-1 (snap-1)", 8 << 30, 524288, 1, 0, 3 << 20)
    assert (
        source_line(cached)
        == "read 0 B of 8.0 GiB (0.00%) in 1 requests, 3.0 MiB from the block cache: ami-1 (snap-1)"
    )
    assert [size_text(n) for n in (0, 1023, 1024, 5 << 40)] == ["0 B", "1023 B", "1.0 KiB", "5.0 TiB"]


def test_the_progress_line_is_rewritten_at_most_ten_times_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    progress = remote._Progress()
    stats = ReadStats(fetched_bytes=3 << 20)
    for _ in range(50):
        progress("https://h/i.qcow2", stats, 7)
    assert err.getvalue().count("\r") == 1
    assert "imagevet: fetched 3.0 MiB in 7 requests from https://h/i.qcow2" in err.getvalue()
    progress.end()
    assert err.getvalue().endswith("\r\x1b[K")


def test_no_progress_line_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert remote.remote_options("eu-west-1", True).progress is None
    options = remote.remote_options()
    assert options.region is None and not options.download
