"""A disk image behind an HTTP(S) URL, read through range requests: only the blocks the audit touches.

Opening sends no HEAD (a signed URL is signed for GET only): the first request is ``GET`` of block 0 with
``Range: bytes=0-…``; its ``206`` gives the size (``Content-Range: bytes 0-N/TOTAL``), the first block and
the validators that pin the file (ETag, Last-Modified). Every later block request sends ``If-Match`` when the
ETag is strong, and each answer must carry exactly the requested range, the pinned validators and size, and
exactly that many bytes: anything else, or a 412, means the file changed while it was read and the audit
stops. A server without range support (a ``200``, or a total of ``*``) is closed at once without reading the
body, and refused unless ``--download`` (``RemoteOptions.download``) allows fetching the whole file into a
private temporary copy, capped at ``max_download_bytes``. Retries, redirects, proxies, TLS and the redaction
of signed URLs are in http_fetch.py.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Mapping
from typing import IO, Any

from imagevet.errors import TargetError
from imagevet.model import SourceInfo
from imagevet.target.base import Target
from imagevet.target.blocks import BlockSource, RemoteOptions
from imagevet.target.http_fetch import (
    TRANSIENT_STATUSES,
    HttpClient,
    bounded,
    hang_up,
    parse_content_range,
    quoted,
    redact_url,
    status_text,
    without_query,
)

BLOCK_SIZE = 256 << 10  # a parameter of HttpSource so benchmarks can vary it
DOWNLOAD_CHUNK = 1 << 20


class HttpSource:
    """A BlockSource over a URL whose server answers range requests (see the module docstring). Made by
    ``open_url_source`` or ``HttpSource.open``; thread-safe."""

    kind = "http"

    def __init__(
        self,
        client: HttpClient,
        final_url: str,
        size: int,
        etag: str | None,
        last_modified: str | None,
        first_block: bytes | None,
        block_size: int,
    ) -> None:
        self._client = client
        self._url = final_url
        self.location = client.location
        self.size = size
        self.block_size = block_size
        self.etag = etag
        self.last_modified = last_modified
        self._first = first_block
        self._redirected = final_url != client.url

    @classmethod
    def open(
        cls,
        url: str,
        options: RemoteOptions,
        block_size: int = BLOCK_SIZE,
        proxies: Mapping[str, str] | None = None,
    ) -> HttpSource:
        """The source of ``url`` (refused when the server cannot serve ranges, whatever ``download``)."""
        opened = open_url_source(url, options, block_size, proxies, allow_download=False)
        assert isinstance(opened, tuple)
        source = opened[0]
        assert isinstance(source, HttpSource)
        return source

    @property
    def strong_etag(self) -> bool:
        return self.etag is not None and not self.etag.startswith("W/")

    def details(self) -> dict[str, str]:
        out = {"url": self.location}
        if self.etag is not None:
            out["etag"] = self.etag
        if self.last_modified is not None:
            out["last_modified"] = self.last_modified
        if self._redirected:
            out["final_url"] = redact_url(self._url)
        return out

    # ---- BlockSource -------------------------------------------------------------------------------
    def cache_key(self) -> str | None:
        """The URL (with the query parameters that may choose the file: ``/get?file=a``, but without a
        signed URL's credentials, which change with every signing), the strong ETag, Last-Modified and
        size. blockcache.py keeps only a digest of it."""
        if not self.strong_etag:
            return None
        query = choosing_query(urllib.parse.urlsplit(self._url).query)
        identity = without_query(self._url) + (f"?{query}" if query else "")  # the final URL, after redirects
        return f"http {identity} {self.etag} {self.last_modified or '-'} {self.size}"

    def allocated(self, index: int) -> bool:
        return True

    def requests(self) -> int:
        return self._client.requests()

    def close(self) -> None:
        self._client.close()

    def fetch(self, index: int) -> bytes:
        if index == 0 and self._first is not None:
            return self._first
        start = index * self.block_size
        end = min(start + self.block_size, self.size) - 1
        if index < 0 or start > end:
            raise TargetError(f"{self.location}: block {index} is beyond the end of the file")
        headers = {"Range": f"bytes={start}-{end}"}
        if self.strong_etag:
            assert self.etag is not None
            headers["If-Match"] = self.etag
        what = f"block {index} (bytes {start}-{end})"
        data: bytes = self._client.attempt(what, lambda: self._exchange(headers, start, end, what))
        return data

    def _exchange(self, headers: dict[str, str], start: int, end: int, what: str) -> Any:
        """One range request: its verified bytes, or a transient response for HttpClient.attempt."""
        response = self._client.send(self._url, headers)
        status = response.status
        if status in TRANSIENT_STATUSES:
            return response
        try:
            if status == 412:
                raise self._changed("If-Match failed: HTTP 412")
            if status == 200:
                raise TargetError(f"{self.location}: {what}: the server answered the whole file")
            if status != 206:
                raise TargetError(f"{self.location}: {what}: {_status_reason(status, self.location)}")
            _check_identity(response, self.location)
            pinned = (self.etag, self.last_modified)
            now = (response.headers.get("ETag"), response.headers.get("Last-Modified"))
            if now[0] != pinned[0]:
                raise self._changed(f"ETag {quoted(str(pinned[0]))}, now {quoted(str(now[0]))}")
            if now[1] != pinned[1]:
                raise self._changed(f"Last-Modified {quoted(str(pinned[1]))}, now {quoted(str(now[1]))}")
            raw = response.headers.get("Content-Range")
            parsed = parse_content_range(raw)
            if parsed is None:
                raise TargetError(f"{self.location}: {what}: invalid Content-Range {quoted(str(raw))}")
            if parsed[2] != self.size:
                raise self._changed(f"size {self.size}, now {parsed[2]}")
            if parsed[:2] != (start, end):
                raise TargetError(
                    f"{self.location}: {what}: the server answered bytes {parsed[0]}-{parsed[1]} instead"
                )
            data = _read_exact(response, end - start + 1, self.location, what)
        except BaseException:
            response.close()
            raise
        return data

    def _changed(self, how: str) -> TargetError:
        return TargetError(f"{self.location}: the file changed while it was read ({how})")


def open_url_source(
    url: str,
    options: RemoteOptions,
    block_size: int = BLOCK_SIZE,
    proxies: Mapping[str, str] | None = None,
    *,
    allow_download: bool = True,
) -> tuple[BlockSource, dict[str, str]] | Target:
    """The BlockSource of the URL and its pinned validators, or (``options.download``, a server without
    range support or validators) a DiskTarget over a private downloaded copy."""
    if block_size < 512 or block_size & (block_size - 1):
        raise TargetError(f"block size {block_size} is not a power of two of at least 512")
    client = HttpClient(url, options.timeout, proxies)
    download = options.download and allow_download
    try:
        response, final = client.first({"Range": f"bytes=0-{block_size - 1}"})
        location = client.location
        try:
            status = response.status
            raw = response.headers.get("Content-Range")
            empty_200 = status == 200 and (response.headers.get("Content-Length") or "").strip() == "0"
            if empty_200 or (status == 416 and (raw or "").strip() == "bytes */0"):
                raise TargetError(f"{location}: the file is empty")
            if status == 200 or (status == 206 and raw is not None and raw.strip().endswith("/*")):
                if not download:
                    raise TargetError(
                        f"{location}: the server does not support range requests; "
                        "pass --download to fetch the whole file"
                    )
                if status == 200:
                    return _download(client, response, options)
                response.close()
                return _download(client, None, options, final)
            if status != 206:
                raise TargetError(f"{location}: {_status_reason(status, location)}")
            _check_identity(response, location)
            parsed = parse_content_range(raw)
            if parsed is None or parsed[2] is None:
                raise TargetError(f"{location}: the server sent an invalid Content-Range {quoted(str(raw))}")
            start, end, size = parsed[0], parsed[1], parsed[2]
            if (start, end) != (0, min(block_size, size) - 1):
                raise TargetError(
                    f"{location}: asked for bytes 0-{block_size - 1}, the server answered {start}-{end}"
                )
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            if etag is None and modified is None:
                if not download:
                    raise TargetError(
                        f"{location}: the server sends neither ETag nor Last-Modified, so nothing proves "
                        "the file does not change while it is read; pass --download to fetch it whole"
                    )
                response.close()
                return _download(client, None, options, final)
            broken: tuple[type[Exception], ...] = (OSError, *client.transient_errors)  # incl. Overdue
            try:
                first: bytes | None = bounded(
                    lambda: _read_exact(response, end + 1, location, "block 0"), client.deadline
                )
            except broken:
                hang_up(response)  # an abandoned, trickling body stops here
                first = None  # fetched again (with retries) when it is read
        except BaseException:
            response.close()
            raise
    except BaseException:
        client.close()
        raise
    source = HttpSource(client, final, size, etag, modified, first, block_size)
    return source, source.details()


def _download(client: HttpClient, response: Any, options: RemoteOptions, url: str = "") -> Target:
    """The whole file (``response``'s body, or a new GET of ``url``) in a private temporary file, checked
    against its Content-Length and capped at ``options.max_download_bytes``; a DiskTarget over it."""
    from imagevet.target.disk import DiskTarget

    location = client.location
    if response is None:
        response = client.get(url, {})
        if response.status != 200:
            response.close()
            raise TargetError(f"{location}: the download failed: {_status_reason(response.status, location)}")
    # opened without a name (O_TMPFILE) or unlinked at once: nothing is left behind; the target closes it
    handle: IO[bytes] = tempfile.TemporaryFile(prefix="imagevet-download-")  # noqa: SIM115
    try:
        try:
            _check_identity(response, location)
            length = _content_length(response, location)
            cap = options.max_download_bytes
            if length is not None and length > cap:
                raise TargetError(f"{location}: the file is {length} bytes, more than the {cap} allowed")
            count = 0
            broken: tuple[type[Exception], ...] = (OSError, *client.transient_errors)  # incl. Overdue
            try:
                while chunk := response.read(DOWNLOAD_CHUNK, decode_content=False):
                    count += len(chunk)
                    if count > cap:
                        raise TargetError(f"{location}: the file is more than the {cap} bytes allowed")
                    handle.write(chunk)
            except broken:
                raise TargetError(f"{location}: the download broke off after {count} bytes") from None
            if length is not None and count != length:
                raise TargetError(f"{location}: the download is truncated: {count} of {length} bytes")
        finally:
            response.close()
        handle.flush()
        handle.seek(0)
    except BaseException:
        handle.close()
        client.close()
        raise
    requests = client.requests()
    client.close()

    def info() -> SourceInfo:
        return SourceInfo(
            kind="http",
            location=location,
            size=count,
            block_size=DOWNLOAD_CHUNK,
            requests=requests,
            fetched_bytes=count,
            cached_bytes=0,
            details=(("download", "whole file"), ("url", location)),
        )

    return DiskTarget(location, handle, location, None, info)


# Query parameters of signed URLs that carry the signature and its terms, not the choice of file: Azure
# SAS, S3 presigned (X-Amz-*), GCS (X-Goog-*, and V2's GoogleAccessId/Expires/Signature), Alibaba OSS.
_CREDENTIAL_PARAMETERS = frozenset(
    {"sig", "se", "st", "sp", "spr", "sv", "sr", "srt", "ss", "si", "sip", "skoid", "sktid", "skt", "ske",
     "sks", "skv", "signature", "expires", "googleaccessid", "ossaccesskeyid", "security-token"}
)  # fmt: skip
_CREDENTIAL_PREFIXES = ("x-amz-", "x-goog-", "x-oss-")


def choosing_query(query: str) -> str:
    """The query without a signed URL's credential parameters, sorted (the part that may pick the file)."""
    kept = [
        (key, value)
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True)
        if key.lower() not in _CREDENTIAL_PARAMETERS and not key.lower().startswith(_CREDENTIAL_PREFIXES)
    ]
    return urllib.parse.urlencode(sorted(kept))


def _read_exact(response: Any, count: int, location: str, what: str) -> bytes:
    """Exactly ``count`` body bytes (a Content-Length or body of any other length is refused); the
    connection goes back to the pool only after a complete body."""
    length = _content_length(response, location)
    if length is not None and length != count:
        raise TargetError(f"{location}: {what}: the server sent {length} bytes for a range of {count}")
    data: bytes = response.read(count + 1, decode_content=False)
    if len(data) != count:
        raise TargetError(f"{location}: {what}: the server sent {len(data)} bytes for a range of {count}")
    response.release_conn()
    return data


def _content_length(response: Any, location: str) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    if not value.strip().isdigit() or len(value.strip()) > 20:
        raise TargetError(f"{location}: the server sent an invalid Content-Length {quoted(value)}")
    return int(value)


def _check_identity(response: Any, location: str) -> None:
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise TargetError(
            f"{location}: the server sent the file encoded (Content-Encoding {quoted(encoding)})"
        )


def _status_reason(status: int, location: str) -> str:
    if status == 403 and location.endswith("?…"):
        return f"{status_text(status)} (the signed URL may have expired)"
    if status == 416:
        return f"{status_text(status)} (the server cannot serve the first block)"
    if status in (301, 302, 303, 307, 308):
        return f"{status_text(status)}: a block request was redirected"
    return status_text(status)
