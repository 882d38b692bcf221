"""`imagevet push`: send the CLI's JSON documents to the inventory service (standard library HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from imagevet.errors import ImagevetError
from imagevet.service.vocabulary import CLOUDS

TIMEOUT = 30


class HttpError(ImagevetError):
    """The service answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_server(server: str) -> str:
    """The service's base URL: http(s), with a host; anything else is a usage error, before any call."""
    try:
        parts = urllib.parse.urlsplit(server)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ImagevetError(f"--server {server!r} is not an http(s) URL (for example http://127.0.0.1:8000)")
    return server.rstrip("/")


def _call(server: str, token: str, method: str, path: str, body: Any = None) -> Any:
    url = check_server(server) + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error")
        except (ValueError, AttributeError):
            detail = exc.reason
        raise HttpError(f"{server}: HTTP {exc.code}: {detail}", exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImagevetError(f"cannot reach {server}: {reason}") from exc
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ImagevetError(f"{server} is not an imagevet service (its answer is not JSON)") from None


def _images(server: str, token: str, **query: str) -> list[Any]:
    found = _call(server, token, "GET", f"/api/v1/images?{urllib.parse.urlencode(query)}")
    if not isinstance(found, list):
        raise ImagevetError(f"{server} answered with something other than a list of images")
    return found


def find_or_register(server: str, token: str, cloud: str, image_id: str, register: bool) -> Any:
    """The image (cloud, image_id), registered first when asked. Never a second image for one id: an id
    registered on another cloud is refused (the --cloud is wrong), and a concurrent push that registered
    it first (409) is taken as found."""
    found = _images(server, token, cloud=cloud, image_id=image_id)
    if found:
        return found[0]
    anywhere = [i for i in _images(server, token, image_id=image_id) if isinstance(i, dict)]
    same = [i for i in anywhere if i.get("cloud") == cloud]
    if same:  # a concurrent push registered it between the two lookups
        return same[0]
    elsewhere = sorted({str(i.get("cloud")) for i in anywhere})
    if elsewhere:
        raise ImagevetError(
            f"{image_id} is registered on {', '.join(elsewhere)}, not {cloud}: push with the image's --cloud"
        )
    if not register:
        raise ImagevetError(f"{cloud} {image_id} is not registered on {server} (add --register)")
    try:
        return _call(server, token, "POST", "/api/v1/images", {"cloud": cloud, "image_id": image_id})
    except HttpError as exc:
        if exc.status != 409:
            raise
    found = _images(server, token, cloud=cloud, image_id=image_id)  # registered by a concurrent push
    if not found:
        raise ImagevetError(f"{server} refused to register {cloud} {image_id} but does not list it either")
    return found[0]


def push(server: str, token: str, document: Any, cloud: str, image_id: str, register: bool) -> dict[str, Any]:
    """Send ``document`` as a report of (cloud, image_id); register the image first when asked."""
    if cloud not in CLOUDS:
        raise ImagevetError(f"the cloud must be one of {', '.join(CLOUDS)}")
    image = find_or_register(server, token, cloud, image_id, register)
    if not isinstance(image, dict) or "id" not in image:
        raise ImagevetError(
            f"{server} answered with something other than an image; is it an imagevet service?"
        )
    result = _call(server, token, "POST", f"/api/v1/images/{image['id']}/reports", document)
    if not isinstance(result, dict):
        raise ImagevetError(f"{server} answered with something other than a report receipt")
    return {**result, "image": image["id"]}


def request_rescan(server: str, token: str) -> str:
    """Ask the service to re-match every stored inventory (after `db update`); returns the job id."""
    answer = _call(server, token, "POST", "/api/v1/rescans", {})
    if not isinstance(answer, dict) or "job" not in answer:
        raise ImagevetError(f"{server} answered with something other than a job")
    return str(answer["job"])
