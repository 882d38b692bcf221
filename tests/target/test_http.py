"""HttpSource (target/http.py): a disk image read by URL through range requests, against a real nginx and a
small fault-injecting server (tests/support/http_ranges.py) for what nginx will not do."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.target import http_fetch
from imagevet.target.blocks import RemoteOptions
from imagevet.target.http import BLOCK_SIZE, HttpSource, open_url_source
from imagevet.target.http_fetch import redact_url
from tests.conftest import FIXTURES
from tests.support.disks import disk_tools_available, make_disk
from tests.support.http_ranges import RangeServer, serve_ranges
from tests.support.nginx import Nginx, require_nginx, self_signed, start_nginx

pytestmark = pytest.mark.real

FAST = RemoteOptions(timeout=2.0)
SIZE = 3 * BLOCK_SIZE + 12345  # the last block is short
SECRET = "S3CR3Tvalue"
REAL_BACKOFF = http_fetch.BACKOFF


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 10-40 ms here (test_real_backoff measures the real 0.2 s, 0.4 s, 0.8 s once)."""
    monkeypatch.setattr(http_fetch, "BACKOFF", (0.01, 0.02, 0.04))


def refused(url: str, options: RemoteOptions = FAST, **kwargs: object) -> str:
    """The one-line TargetError that opening ``url`` raises, within a few seconds."""
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        open_url_source(url, options, **kwargs)  # type: ignore[arg-type]
    return one_line(caught.value, started)


def one_line(exc: BaseException, started: float) -> str:
    message = str(exc)
    assert "\n" not in message and len(message) < 300, message
    assert time.monotonic() - started < 5, "an error path took too long"
    return message


def source_of(url: str, options: RemoteOptions = FAST, block_size: int = BLOCK_SIZE) -> HttpSource:
    return HttpSource.open(url, options, block_size)


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("www")
    (folder / "disk.bin").write_bytes(random.Random(7).randbytes(SIZE))
    (folder / "small.bin").write_bytes(b"tiny image")
    (folder / "empty.bin").write_bytes(b"")
    with (folder / "big.bin").open("wb") as handle:
        handle.truncate(1 << 30)  # sparse: nginx would send 1 GiB of zeros
    return folder


@pytest.fixture(scope="module")
def nginx(www: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    require_nginx()
    with start_nginx(tmp_path_factory.mktemp("nginx"), www) as server:
        yield server


@pytest.fixture(scope="module")
def nginx_no_ranges(www: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    require_nginx()
    with start_nginx(tmp_path_factory.mktemp("nginx-noranges"), www, ranges=False) as server:
        yield server


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    folder = tmp_path_factory.mktemp("disk")
    return make_disk(FIXTURES / "rootfs/hardened-debian", folder / "disk.qcow2", size_mib=64)


@pytest.fixture
def fresh_nginx(tmp_path: Path) -> Iterator[Nginx]:
    """An nginx of this test's own, over a folder the test may change."""
    require_nginx()
    (tmp_path / "www").mkdir()
    with start_nginx(tmp_path / "nginx", tmp_path / "www") as server:
        yield server


@pytest.fixture
def faulty() -> Iterator[RangeServer]:
    with serve_ranges(RangeServer(random.Random(3).randbytes(SIZE))) as server:
        yield server


# ---- nginx: ranges, bytes, pinning ------------------------------------------------------------------
def test_ranges_match_the_file_and_the_access_log(nginx: Nginx, www: Path) -> None:
    data = (www / "disk.bin").read_bytes()
    nginx.clear_log()
    source = source_of(f"{nginx.base_url}/disk.bin")
    try:
        assert (source.size, source.block_size) == (SIZE, BLOCK_SIZE)
        count = -(-SIZE // BLOCK_SIZE)
        order = random.Random(1).sample(range(count), count)
        fetched = 0
        for index in order:
            block = source.fetch(index)
            assert block == data[index * BLOCK_SIZE : (index + 1) * BLOCK_SIZE]
            fetched += len(block)
        assert len(source.fetch(count - 1)) == 12345
        fetched += 12345
        entries = nginx.entries(at_least=source.requests())
        assert len(entries) == source.requests() == count + 1  # block 0 came with the first request
        assert sum(entry.bytes for entry in entries) == fetched
        assert {entry.status for entry in entries} == {206}
        assert entries[0].range == f"bytes=0-{BLOCK_SIZE - 1}"
        assert {entry.range for entry in entries[1:]} >= {f"bytes={3 * BLOCK_SIZE}-{SIZE - 1}"}
        assert source.cache_key() is not None and source.details()["etag"].startswith('"')
    finally:
        source.close()


def test_concurrent_fetches_from_eight_threads(nginx: Nginx, www: Path) -> None:
    data = (www / "disk.bin").read_bytes()
    source = source_of(f"{nginx.base_url}/disk.bin", block_size=4096)
    try:
        count = -(-SIZE // 4096)
        with ThreadPoolExecutor(8) as pool:
            blocks = list(pool.map(source.fetch, range(count)))
        assert b"".join(blocks) == data
        assert source.requests() == count  # block 0 from the first request; no retries
    finally:
        source.close()


def test_a_file_smaller_than_a_block_and_an_empty_file(nginx: Nginx) -> None:
    source = source_of(f"{nginx.base_url}/small.bin")
    try:
        assert (source.size, source.fetch(0), source.requests()) == (10, b"tiny image", 1)
    finally:
        source.close()
    assert "the file is empty" in refused(f"{nginx.base_url}/empty.bin")


def test_block_size_is_a_parameter(nginx: Nginx, www: Path) -> None:
    nginx.clear_log()
    source = source_of(f"{nginx.base_url}/disk.bin", block_size=65536)
    try:
        assert source.fetch(5) == (www / "disk.bin").read_bytes()[5 * 65536 : 6 * 65536]
        assert [e.range for e in nginx.entries(at_least=2)] == ["bytes=0-65535", "bytes=327680-393215"]
    finally:
        source.close()
    assert "power of two" in refused(f"{nginx.base_url}/disk.bin", block_size=1000)


def test_a_file_replaced_mid_read_is_refused(fresh_nginx: Nginx) -> None:
    path = fresh_nginx.root / "disk.bin"
    path.write_bytes(random.Random(1).randbytes(SIZE))
    source = source_of(f"{fresh_nginx.base_url}/disk.bin")
    try:
        source.fetch(1)
        with path.open("r+b") as handle:  # rewritten in place: same size, other bytes, a later mtime
            handle.write(random.Random(2).randbytes(SIZE))
        stat = path.stat()
        os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))
        started = time.monotonic()
        with pytest.raises(TargetError, match="the file changed while it was read") as caught:
            source.fetch(2)
        one_line(caught.value, started)
        entries = fresh_nginx.entries(at_least=3)
        assert entries[-1].status == 412  # nginx checked the If-Match that was sent
    finally:
        source.close()


def test_a_grown_file_is_refused(fresh_nginx: Nginx) -> None:
    path = fresh_nginx.root / "disk.bin"
    path.write_bytes(random.Random(1).randbytes(SIZE))
    source = source_of(f"{fresh_nginx.base_url}/disk.bin")
    try:
        with path.open("ab") as handle:
            handle.write(b"more")
        with pytest.raises(TargetError, match="the file changed while it was read"):
            source.fetch(1)
    finally:
        source.close()


# ---- nginx without ranges: refused, or downloaded -------------------------------------------------
def test_no_range_support_is_refused_with_the_download_hint(nginx_no_ranges: Nginx, www: Path) -> None:
    nginx_no_ranges.clear_log()
    message = refused(f"{nginx_no_ranges.base_url}/big.bin")
    assert message.endswith(
        "the server does not support range requests; pass --download to fetch the whole file"
    )
    (entry,) = nginx_no_ranges.entries(at_least=1, wait=10)
    print(f"nginx sent {entry.bytes} bytes of the 1 GiB body before the client closed")
    assert entry.status == 200 and entry.bytes < 64 << 20  # the body was not read: nginx saw the close


def test_no_range_support_with_download(
    nginx_no_ranges: Nginx, small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nginx_no_ranges.root / "small.qcow2").write_bytes(small_disk.read_bytes())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    opened = open_url_source(f"{nginx_no_ranges.base_url}/small.qcow2?sig=x", RemoteOptions(download=True))
    assert not isinstance(opened, tuple)
    try:
        assert list(scratch.iterdir()) == []  # the copy has no name
        assert _open_fds_in(scratch) == 1
        assert "bookworm" in str(opened.read_text("/etc/os-release"))
        source = opened.info.source
        assert source is not None and source.kind == "http"
        assert (source.size, source.fetched_bytes) == (small_disk.stat().st_size,) * 2
        assert source.location.endswith("/small.qcow2?…")
    finally:
        opened.close()
    assert _open_fds_in(scratch) == 0 and list(scratch.iterdir()) == []


def _open_fds_in(folder: Path) -> int:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return sum(1 for link in links if link.startswith(str(folder)))


def test_download_is_capped_and_checked(faulty: RangeServer) -> None:
    faulty.ranges = False
    url = f"{faulty.base_url}/disk.bin"
    capped = RemoteOptions(download=True, timeout=2.0, max_download_bytes=SIZE - 1)
    assert f"the file is {SIZE} bytes, more than the {SIZE - 1} allowed" in refused(url, capped)
    faulty.faults = ["short"]
    message = refused(url, RemoteOptions(download=True, timeout=2.0))
    assert "the download" in message and ("truncated" in message or "broke off" in message)


def test_a_huge_200_to_a_range_request_is_not_read(faulty: RangeServer) -> None:
    faulty.ranges, faulty.whole_body = False, 1 << 30
    url = f"{faulty.base_url}/disk.bin"
    assert "does not support range requests" in refused(url)
    capped = RemoteOptions(download=True, timeout=2.0, max_download_bytes=1 << 20)
    assert "more than the 1048576 allowed" in refused(url, capped)
    time.sleep(0.2)
    assert faulty.bytes_sent < 32 << 20, faulty.bytes_sent  # of 2 GiB offered


def test_no_validators_refused_unless_download(faulty: RangeServer, small_disk: Path) -> None:
    faulty.etag = faulty.last_modified = None
    url = f"{faulty.base_url}/disk.bin"
    assert "neither ETag nor Last-Modified" in refused(url)
    faulty.data = small_disk.read_bytes()
    opened = open_url_source(url, RemoteOptions(download=True, timeout=2.0))
    assert not isinstance(opened, tuple)
    try:
        assert opened.info.source is not None and opened.info.source.requests == 2
        assert [seen.headers.get("Range") for seen in faulty.seen[-2:]] == [f"bytes=0-{BLOCK_SIZE - 1}", None]
    finally:
        opened.close()


# ---- the fault server: retries, changes, hostile answers -----------------------------------------
def test_retries_recover_from_503_and_a_reset(faulty: RangeServer) -> None:
    faulty.faults = ["503", "ok", "reset", "503", "ok"]
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        assert source.fetch(1) == faulty.data[BLOCK_SIZE : 2 * BLOCK_SIZE]
        assert source.requests() == 5 == faulty.count()
    finally:
        source.close()


def test_a_reset_during_the_first_block_is_fetched_again(faulty: RangeServer) -> None:
    faulty.faults = ["reset"]
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        assert source.fetch(0) == faulty.data[:BLOCK_SIZE] and source.requests() == 2
    finally:
        source.close()


def test_retry_after_is_honoured_and_attempts_are_capped(faulty: RangeServer) -> None:
    faulty.faults, faulty.retry_after = ["429"], "1"
    started = time.monotonic()
    source_of(f"{faulty.base_url}/disk.bin").close()
    assert 1.0 <= time.monotonic() - started < 3
    faulty.faults, faulty.retry_after = ["503"] * 4, None
    message = refused(f"{faulty.base_url}/disk.bin?sig={SECRET}")
    assert message.endswith("HTTP 503 Service Unavailable after 4 attempts") and SECRET not in message


def test_real_backoff(faulty: RangeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_BACKOFF == (0.2, 0.4, 0.8)
    monkeypatch.setattr(http_fetch, "BACKOFF", REAL_BACKOFF)
    faulty.faults = ["503"] * 3
    started = time.monotonic()
    source_of(f"{faulty.base_url}/disk.bin").close()
    assert 1.4 <= time.monotonic() - started < 3 and faulty.count() == 4


def test_non_transient_statuses_fail_at_once(faulty: RangeServer) -> None:
    faulty.statuses = {"/gone": 404, "/signed": 403, "/auth": 401}
    assert refused(f"{faulty.base_url}/gone").endswith("HTTP 404 Not Found")
    message = refused(f"{faulty.base_url}/signed?X-Amz-Signature={SECRET}")
    assert message.endswith("HTTP 403 Forbidden (the signed URL may have expired)")
    assert refused(f"{faulty.base_url}/auth").endswith("HTTP 401 Unauthorized")
    assert faulty.count() == 3
    assert "secret-body-text" not in message


def test_timeouts_and_refused_connections_are_one_line(faulty: RangeServer) -> None:
    faulty.faults = ["hang"] * 4
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        open_url_source(f"{faulty.base_url}/disk.bin", RemoteOptions(timeout=0.2))
    assert "did not answer in time (4 attempts)" in str(caught.value)
    assert time.monotonic() - started < 4
    with serve_ranges(RangeServer(b"")) as closed:
        url = f"{closed.base_url}/disk.bin"
    assert "cannot connect (4 attempts)" in refused(url)


def test_a_short_body_is_refused(faulty: RangeServer) -> None:
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        faulty.faults = ["short"]
        with pytest.raises(TargetError, match=r"block 1 .*sent 131072 bytes for a range of 262144"):
            source.fetch(1)
    finally:
        source.close()


def test_a_changed_etag_is_refused(faulty: RangeServer) -> None:
    faulty.change_etag_after = 2
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        source.fetch(1)
        with pytest.raises(TargetError, match=r"changed while it was read \(If-Match failed: HTTP 412\)"):
            source.fetch(2)
        assert faulty.seen[-1].headers["If-Match"] == '"v1"'
    finally:
        source.close()


def test_a_changed_weak_etag_or_last_modified_is_refused(faulty: RangeServer) -> None:
    faulty.etag, faulty.change_etag_after = 'W/"v1"', 1
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        assert source.cache_key() is None and "If-Match" not in faulty.seen[-1].headers
        with pytest.raises(TargetError, match=r"changed while it was read \(ETag 'W/\"v1\"', now '\"v2\"'\)"):
            source.fetch(1)
    finally:
        source.close()
    faulty.etag = None
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        faulty.last_modified = "Thu, 02 Jan 2025 00:00:00 GMT"
        with pytest.raises(TargetError, match=r"changed while it was read \(Last-Modified"):
            source.fetch(1)
    finally:
        source.close()


@pytest.mark.parametrize(
    "content_range",
    [
        "bytes -1-5/10",
        "bytes a-b/c",
        "bytes 0-262143/100",
        f"bytes 0-262143/{2**70}",
        f"bytes 0-{2**70}/{2**71}",
        "bytes 5-3/1000000",
        "bytes 0-262143",
        "bits 0-262143/1000000",
        "bytes 0-262143/1000000, bytes 0-1/1000000",
        "",
    ],
)
def test_hostile_content_ranges_are_one_line_errors(faulty: RangeServer, content_range: str) -> None:
    faulty.content_range = content_range
    message = refused(f"{faulty.base_url}/disk.bin")
    assert "Content-Range" in message or "answered" in message


def test_a_wrong_range_in_a_block_answer_is_refused(faulty: RangeServer) -> None:
    source = source_of(f"{faulty.base_url}/disk.bin")
    try:
        faulty.content_range = f"bytes 0-{BLOCK_SIZE - 1}/{SIZE}"
        with pytest.raises(TargetError, match=r"block 2 .* answered bytes 0-262143 instead"):
            source.fetch(2)
    finally:
        source.close()


def test_an_encoded_answer_is_refused(faulty: RangeServer) -> None:
    faulty.encoding = "gzip"
    assert "Content-Encoding 'gzip'" in refused(f"{faulty.base_url}/disk.bin")


# ---- redirects ------------------------------------------------------------------------------------
def test_redirects_are_followed_and_the_final_url_pinned(faulty: RangeServer) -> None:
    faulty.redirects = {
        "/a": "/b?sig=second",
        "/b": f"{faulty.base_url}/c",
        "/c": "/disk.bin?X-Goog-Signature=x",
    }
    source = source_of(f"{faulty.base_url}/a?sig={SECRET}")
    try:
        assert source.details()["final_url"] == f"{faulty.base_url}/disk.bin?…"
        assert source.fetch(1) == faulty.data[BLOCK_SIZE : 2 * BLOCK_SIZE]
        assert faulty.seen[-1].path == "/disk.bin?X-Goog-Signature=x"
        assert source.requests() == 5
    finally:
        source.close()


def test_redirect_limits(faulty: RangeServer) -> None:
    faulty.redirects = {f"/r{i}": f"/r{i + 1}" for i in range(6)}
    assert refused(f"{faulty.base_url}/r0").endswith("more than 5 redirects")
    faulty.redirects = {"/ftp": f"ftp://127.0.0.1/x?sig={SECRET}", "/loop": "/loop"}
    message = refused(f"{faulty.base_url}/ftp")
    assert "refused a redirect to a ftp: URL" in message and SECRET not in message
    assert refused(f"{faulty.base_url}/loop").endswith("more than 5 redirects")


def test_a_redirect_from_https_to_http_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    state = RangeServer(b"x" * 1000)
    with serve_ranges(state, tls=(cert, key)) as server:
        state.redirects = {"/down": f"http://127.0.0.1:1/disk.bin?sig={SECRET}"}
        source = source_of(f"{server.base_url}/disk.bin")  # the private CA is trusted through SSL_CERT_FILE
        source.close()
        message = refused(f"{server.base_url}/down")
        assert message.endswith("refused a redirect from https to http")  # the Location is not shown
        assert SECRET not in message


def test_credentials_go_only_to_the_same_origin(faulty: RangeServer) -> None:
    port = faulty.base_url.rsplit(":", 1)[1]
    faulty.redirects = {"/away": f"http://localhost:{port}/disk.bin"}
    source_of(f"http://user:{SECRET}@127.0.0.1:{port}/away").close()
    assert faulty.seen[0].headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in faulty.seen[1].headers


# ---- TLS and proxies ------------------------------------------------------------------------------
def test_https_is_verified(www: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path / "tls")
    with start_nginx(tmp_path / "nginx", www, tls=(cert, key)) as server:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        assert "TLS certificate could not be verified" in refused(f"{server.base_url}/disk.bin")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        source = source_of(f"{server.base_url}/disk.bin")
        try:
            assert source.fetch(3) == (www / "disk.bin").read_bytes()[3 * BLOCK_SIZE :]
        finally:
            source.close()


def test_an_http_proxy_is_used_and_no_proxy_honoured(
    faulty: RangeServer, nginx: Nginx, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = HttpSource.open("http://image.invalid/disk.bin", FAST, proxies={"http": faulty.base_url})
    try:
        assert source.fetch(1) == faulty.data[BLOCK_SIZE : 2 * BLOCK_SIZE]
        assert faulty.seen[0].path == "http://image.invalid/disk.bin"  # the absolute form a proxy gets
    finally:
        source.close()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    source = HttpSource.open(f"{nginx.base_url}/small.bin", FAST, proxies={"http": "http://127.0.0.1:1"})
    source.close()


# ---- secrets --------------------------------------------------------------------------------------
SIGNED = [
    f"sv=2024-11-04&se=2030-01-01&sr=b&sp=r&sig={SECRET}",
    f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA&X-Amz-Signature={SECRET}",
    f"X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={SECRET}",
    f"OSSAccessKeyId=LTAI&Expires=1900000000&Signature={SECRET}",
]


@pytest.mark.parametrize("query", [*SIGNED, "userinfo"])
def test_secrets_never_appear(faulty: RangeServer, nginx_no_ranges: Nginx, query: str) -> None:
    def url(base: str, path: str) -> str:
        if query == "userinfo":
            return base.replace("://", f"://admin:{SECRET}@") + path
        return f"{base}{path}?{query}#frag-{SECRET}"

    faulty.statuses = {"/denied": 403, "/missing": 404}
    faulty.redirects = {"/ftp": "ftp://x/y", "/many": "/many"}
    with serve_ranges(RangeServer(b"")) as closed:
        gone = closed.base_url
    messages = [
        refused(url(faulty.base_url, "/denied")),
        refused(url(faulty.base_url, "/missing")),
        refused(url(faulty.base_url, "/ftp")),
        refused(url(faulty.base_url, "/many")),
        refused(url(nginx_no_ranges.base_url, "/disk.bin")),
        refused(url(gone, "/disk.bin")),
        refused(url("http://[::1", "/x")),
    ]
    faulty.content_range = "bytes 0-1/2"
    messages.append(refused(url(faulty.base_url, "/disk.bin")))
    faulty.content_range = None
    source = source_of(url(faulty.base_url, "/disk.bin"))
    try:
        faulty.change_etag_after = 0
        with pytest.raises(TargetError) as caught:
            source.fetch(1)
        messages.append(str(caught.value))
        texts = [*messages, source.location, repr(source.details()), str(source.cache_key())]
        texts.append("".join(traceback.format_exception(caught.value)))
    finally:
        source.close()
    for text in texts:
        assert SECRET not in text and "admin" not in text, text
    if query != "userinfo":
        assert source.location == f"{faulty.base_url}/disk.bin?…"


def test_redact_url() -> None:
    assert redact_url("https://u:p@h.example:8443/a/b.qcow2?sig=x#f") == "https://h.example:8443/a/b.qcow2?…"
    assert redact_url("http://h/a") == "http://h/a"
    assert redact_url("http://[::1]:80/a?") == "http://[::1]:80/a"
    assert redact_url("http://[::1/a?sig=x") == "<an invalid URL>"


def test_urllib3_is_imported_only_when_a_url_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import sys, imagevet.target.http, imagevet.target.remote; print('urllib3' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )
    monkeypatch.setitem(sys.modules, "urllib3", None)  # as if the disk extra were not installed
    assert refused("https://example.invalid/disk.qcow2?sig=x") == (
        "disk images by URL need the disk extra: pip install 'imagevet[disk]'"
    )
