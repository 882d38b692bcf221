"""HTTP plumbing for disk images by URL (http.py): one urllib3 pool per source, retries, redirects, proxies
from the standard environment, and the redaction that keeps a signed URL's credentials out of every message.

A signed URL's query string is a credential (Azure SAS ``sig=``, S3 ``X-Amz-Signature``, GCS
``X-Goog-Signature``, OSS ``Signature``) and so is ``user:pass@``: ``redact_url`` is the only form of a URL
that any message, exception or report holds. urllib3's own exception texts quote URLs, so they are never
passed on: only their class is named.
"""

from __future__ import annotations

import contextlib
import http
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from imagevet.errors import TargetError

ATTEMPTS = 4  # one request and three retries
BACKOFF = (0.2, 0.4, 0.8)
RETRY_AFTER_MAX = 5.0
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
POOL_SIZE = 8
MAX_SIZE = 1 << 50  # 1 PiB: a larger Content-Range total is absurd for a disk image

_CONTENT_RANGE = re.compile(r"bytes (\d{1,20})-(\d{1,20})/(\d{1,20}|\*)")
DISK_EXTRA_HINT = "disk images by URL need the disk extra: pip install 'imagevet[disk]'"


def redact_url(url: str) -> str:
    """``url`` without userinfo, query and fragment; ``?…`` marks that there was a query."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<an invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return f"{clean}?…" if parts.query else clean


def without_query(url: str) -> str:
    return redact_url(url).removesuffix("?…")


def quoted(value: str, limit: int = 60) -> str:
    """A server's header value for a message: quoted, one line, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes START-END/TOTAL`` as numbers (TOTAL None for ``*``), or None when it is not that form or
    the numbers are inconsistent (END before START, TOTAL not beyond END, TOTAL absurd)."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if match is None:
        return None
    start, end = int(match[1]), int(match[2])
    total = None if match[3] == "*" else int(match[3])
    if end < start or end >= MAX_SIZE or (total is not None and (total <= end or total > MAX_SIZE)):
        return None
    return start, end, total


def status_text(status: int) -> str:
    try:
        return f"HTTP {status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _urllib3() -> Any:
    try:
        import urllib3
    except ImportError as exc:
        raise TargetError(DISK_EXTRA_HINT) from exc
    return urllib3


class Overdue(Exception):
    """An exchange that did not complete within its deadline (a server trickling its answer); ``thread``
    is the abandoned thread's ident."""

    def __init__(self, thread: int | None) -> None:
        super().__init__("overdue")
        self.thread = thread


def bounded(call: Callable[[], Any], seconds: float) -> Any:
    """``call()``, or Overdue after ``seconds``. urllib3's read timeout bounds each socket read, not the
    whole answer, so a server sending a byte a second would hold a read for hours: the exchange runs in a
    daemon thread that is abandoned at the deadline (a response it still gets is closed)."""
    done = threading.Event()
    box: dict[str, Any] = {}
    lock = threading.Lock()

    def run() -> None:
        try:
            result = call()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    if hasattr(result, "close"):
                        result.close()
                else:
                    box["result"] = result
        finally:
            done.set()

    thread = threading.Thread(target=run, name="imagevet-http", daemon=True)
    thread.start()
    if not done.wait(seconds):
        with lock:
            box["abandoned"] = True
            finished = "result" in box or "error" in box
        if not finished:
            raise Overdue(thread.ident)
    if "error" in box:
        raise box["error"]
    return box["result"]


def hang_up(response: Any) -> None:
    """End ``response`` even while another thread reads it: shut its socket down (``close()`` would wait
    for the reader's buffer lock); a response whose connection went back to the pool is just closed."""
    try:
        response.shutdown()
    except Exception:  # released to the pool, or no socket any more: nothing is reading it
        with contextlib.suppress(Exception):
            response.close()


class HttpClient:
    """GET requests to one image's URLs: a pool of ``POOL_SIZE`` connections per proxy (or none), retries
    of transient failures, and a count of every request sent. Thread-safe."""

    def __init__(
        self,
        url: str,
        timeout: float,
        proxies: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.location = redact_url(url)
        parts = self._check_url(url, self.location)
        self._urllib3 = _urllib3()
        self._timeout = self._urllib3.Timeout(connect=timeout, read=timeout)
        self.deadline = timeout  # of one whole exchange: request, headers and body
        self._proxies = dict(urllib.request.getproxies() if proxies is None else proxies)
        self._sleep = sleep
        self._managers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._requests = 0
        self._inflight: dict[int, Any] = {}  # thread ident -> the response it is reading
        self.url = urllib.parse.urlunsplit((parts.scheme, _netloc(parts), parts.path or "/", parts.query, ""))
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._auth: dict[str, str] = {}
        if parts.username is not None:
            userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._auth = dict(self._urllib3.util.make_headers(basic_auth=userinfo))

    @staticmethod
    def _check_url(url: str, location: str) -> urllib.parse.SplitResult:
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise TargetError(f"{location}: not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"{location}: not an http:// or https:// URL with a host")
        return parts

    @property
    def transient_errors(self) -> tuple[type[Exception], ...]:
        """What a broken connection raises (a timeout, a reset, a body cut short): worth another try."""
        errors = self._urllib3.exceptions
        return (errors.TimeoutError, errors.ProtocolError, ConnectionError, Overdue)

    def requests(self) -> int:
        with self._lock:
            return self._requests

    def close(self) -> None:
        with self._lock:
            managers, self._managers = list(self._managers.values()), {}
        for manager in managers:
            manager.clear()

    # ---- one request -------------------------------------------------------------------------------
    def _manager(self, url: str) -> Any:
        parts = urllib.parse.urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
            proxy = None
        key = proxy or ""
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                if proxy:
                    manager = self._proxy_manager(proxy)
                else:
                    manager = self._urllib3.PoolManager(num_pools=4, maxsize=POOL_SIZE, block=False)
                self._managers[key] = manager
            return manager

    def _proxy_manager(self, proxy: str) -> Any:
        if "://" not in proxy:
            proxy = f"http://{proxy}"
        parts = urllib.parse.urlsplit(proxy)
        headers = {}
        if parts.username is not None:
            userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers = dict(self._urllib3.util.make_headers(proxy_basic_auth=userinfo))
        clean = urllib.parse.urlunsplit((parts.scheme, _netloc(parts), "", "", ""))
        return self._urllib3.ProxyManager(
            clean, num_pools=4, maxsize=POOL_SIZE, block=False, proxy_headers=headers
        )

    def send(self, url: str, headers: dict[str, str]) -> Any:
        with self._lock:
            self._requests += 1
        all_headers = {"Accept-Encoding": "identity", "User-Agent": "imagevet", **headers}
        if self._same_origin(url):
            all_headers.update(self._auth)
        response = self._manager(url).request(
            "GET",
            url,
            headers=all_headers,
            preload_content=False,
            decode_content=False,
            redirect=False,
            retries=False,
            timeout=self._timeout,
        )
        with self._lock:
            self._inflight[threading.get_ident()] = response
        return response

    def _tracked(self, call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return call()
            finally:
                with self._lock:
                    self._inflight.pop(threading.get_ident(), None)

        return run

    def _abandon(self, thread: int | None) -> None:
        """Shut the socket of an abandoned exchange down, so its thread stops reading a trickling body
        (one still waiting for headers ends with the server or its socket timeout)."""
        with self._lock:
            response = self._inflight.pop(thread, None) if thread is not None else None
        if response is not None:
            hang_up(response)

    def _same_origin(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        return (parts.scheme, parts.hostname, parts.port) == self._origin

    def attempt(self, what: str, call: Callable[[], Any]) -> Any:
        """``call()`` (which sends a request and may read its body) up to ATTEMPTS times while it fails
        transiently: a connection error, a timeout, a body cut short, or a transient status (then ``call``
        returns the response unread and this closes it). Raises TargetError after the last attempt."""
        urllib3 = self._urllib3
        transient = self.transient_errors
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            try:
                result = bounded(self._tracked(call), self.deadline)
            except Overdue as exc:
                self._abandon(exc.thread)
                if last:
                    raise TargetError(f"{self.location}: {what}: {_network_reason(exc)}") from None
                self._sleep(delay)
                continue
            except urllib3.exceptions.SSLError as exc:
                raise TargetError(f"{self.location}: {what}: {_tls_reason(exc)}") from None
            except urllib3.exceptions.ProxyError:
                raise TargetError(f"{self.location}: {what}: the proxy could not be reached") from None
            except transient as exc:
                if last:
                    raise TargetError(f"{self.location}: {what}: {_network_reason(exc)}") from None
            except urllib3.exceptions.HTTPError as exc:
                reason = f"{exc.__class__.__name__} from urllib3"
                raise TargetError(f"{self.location}: {what}: {reason}") from None
            else:
                status = getattr(result, "status", None)
                if status not in TRANSIENT_STATUSES:
                    return result
                delay = _retry_after(result.headers.get("Retry-After"), delay)
                result.close()
                if last:
                    raise TargetError(
                        f"{self.location}: {what}: {status_text(status)} after {ATTEMPTS} attempts"
                    )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, url: str, headers: dict[str, str]) -> Any:
        """One GET (its body unread), retried while it fails transiently."""
        return self.attempt("the request failed", lambda: self.send(url, headers))

    def first(self, headers: dict[str, str]) -> tuple[Any, str]:
        """The first GET, redirects followed (at most MAX_REDIRECTS, never from https to http nor to
        another scheme): the final response (body unread) and the final URL."""
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            response = self.get(url, headers)
            if response.status not in REDIRECT_STATUSES:
                return response, url
            target = response.headers.get("Location")
            response.close()
            if not target:
                raise TargetError(f"{self.location}: {status_text(response.status)} without a Location")
            following = urllib.parse.urljoin(url, target.strip())
            scheme = urllib.parse.urlsplit(following).scheme
            if scheme not in ("http", "https"):
                raise TargetError(f"{self.location}: refused a redirect to a {scheme or 'relative'}: URL")
            if url.startswith("https:") and scheme == "http":  # the Location is the server's: not shown
                raise TargetError(f"{self.location}: refused a redirect from https to http")
            try:
                urllib.parse.urlsplit(following).port  # noqa: B018
            except ValueError:
                raise TargetError(f"{self.location}: refused a redirect to an invalid URL") from None
            url = following
        raise TargetError(f"{self.location}: more than {MAX_REDIRECTS} redirects")


def _netloc(parts: urllib.parse.SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port is None else f"{host}:{parts.port}"


def _retry_after(value: str | None, default: float) -> float:
    """A small Retry-After in seconds (at most RETRY_AFTER_MAX), else the backoff."""
    if value is not None and value.strip().isdigit():
        return min(float(value.strip()), RETRY_AFTER_MAX)
    return default


def _network_reason(exc: Exception) -> str:
    urllib3 = _urllib3()
    if isinstance(exc, Overdue):
        return f"the server did not answer in time ({ATTEMPTS} attempts)"  # a whole answer, that is
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return f"the host name could not be resolved ({ATTEMPTS} attempts)"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass
        return f"cannot connect ({ATTEMPTS} attempts)"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return f"the connection timed out ({ATTEMPTS} attempts)"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"the server did not answer in time ({ATTEMPTS} attempts)"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return f"the connection broke off ({ATTEMPTS} attempts)"
    return f"{exc.__class__.__name__} ({ATTEMPTS} attempts)"


def _tls_reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "the server's TLS certificate could not be verified (set SSL_CERT_FILE for a private CA)"
    if "hostname" in text.lower() or "doesn't match" in text:
        return "the server's TLS certificate does not match its name"
    return "the TLS handshake failed"
