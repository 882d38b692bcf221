"""`imagevet push`: send the CLI's JSON documents to the inventory service (standard library HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from imagevet.errors import ImagevetError

TIMEOUT = 30


def _call(server: str, token: str, method: str, path: str, body: Any = None) -> Any:
    url = server.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error")
        except (ValueError, AttributeError):
            detail = exc.reason
        raise ImagevetError(f"{server}: HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImagevetError(f"cannot reach {server}: {reason}") from exc


def push(server: str, token: str, document: Any, cloud: str, image_id: str, register: bool) -> dict[str, Any]:
    """Send ``document`` as a report of (cloud, image_id); register the image first when asked."""
    query = urllib.parse.urlencode({"cloud": cloud, "image_id": image_id})
    found = _call(server, token, "GET", f"/api/v1/images?{query}")
    if found:
        image = found[0]
    elif register:
        image = _call(server, token, "POST", "/api/v1/images", {"cloud": cloud, "image_id": image_id})
    else:
        raise ImagevetError(f"{cloud} {image_id} is not registered on {server} (add --register)")
    result: dict[str, Any] = _call(server, token, "POST", f"/api/v1/images/{image['id']}/reports", document)
    return {**result, "image": image["id"]}


def request_rescan(server: str, token: str) -> str:
    """Ask the service to re-match every stored inventory (after `db update`); returns the job id."""
    answer = _call(server, token, "POST", "/api/v1/rescans", {})
    return str(answer["job"])
