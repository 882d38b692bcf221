"""`imagevet push` and `db update --rescan` against servers that are not what they should be: a malformed
--server, a plain web server answering HTML, one answering JSON of another shape. One line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_imagevet
from tests.support.http_server import serve


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "audit.json"
    path.write_text('{"schema": "imagevet/audit/v1", "summary": {}}')
    return path


@pytest.mark.parametrize(
    "server", ["notaurl", "ftp://example.org", "http://[::1", "http://", "file:///etc/passwd"]
)
def test_a_malformed_server_url_is_refused_before_any_call(report: Path, server: str) -> None:
    result = run_imagevet("push", str(report), "--server", server, "--token", "t", "--image-id", "a",
                          "--cloud", "aws")  # fmt: skip
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"imagevet: error: --server {server!r} is not an http(s) URL (for example http://127.0.0.1:8000)"
    ]


def test_a_server_that_is_not_imagevet(report: Path, tmp_path: Path) -> None:
    pages = tmp_path / "site"
    (pages / "v1").mkdir(parents=True)
    (pages / "v1/images").write_text("<html><body>It works!</body></html>")
    with serve(pages) as base:
        server = base.removesuffix("/api")
        html = run_imagevet("push", str(report), "--server", server, "--token", "t", "--image-id", "a",
                          "--cloud", "aws")  # fmt: skip
        assert html.returncode == 2
        assert (
            html.stderr.strip()
            == f"imagevet: error: {server} is not an imagevet service (its answer is not JSON)"
        )
        (pages / "v1/images").write_text('[{"name": "not an image"}]')
        shaped = run_imagevet("push", str(report), "--server", server, "--token", "t", "--image-id", "a",
                          "--cloud", "aws")  # fmt: skip
        assert shaped.returncode == 2 and "something other than an image" in shaped.stderr
        assert len(shaped.stderr.strip().splitlines()) == 1
