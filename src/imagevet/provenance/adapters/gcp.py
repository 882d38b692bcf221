"""Google Cloud through the Compute Engine REST API (v1 images.get and images.getFromFamily) with
google-auth (extra ``gcp``): Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's
ADC file, or the metadata server on GCE). ``CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE``, gcloud's own
override (for example ``https://compute.googleapis.com/compute/v1/``), points it elsewhere. REST rather
than google-cloud-compute: two GET calls do not justify gRPC and protobuf in the install."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from imagevet.provenance.adapters import MissingExtraError, parse_timestamp
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup

DEFAULT_ENDPOINT = "https://compute.googleapis.com/compute/v1/"
SCOPES = ["https://www.googleapis.com/auth/compute.readonly"]
TIMEOUT = (5, 20)


def record_from(image: dict[str, Any], project: str) -> ImageRecord:
    deprecation = image.get("deprecated") or {}
    state = str(deprecation.get("state", ""))
    return ImageRecord(
        image_id=f"projects/{project}/global/images/{image.get('name', '')}",
        owners=(project,),
        name=str(image.get("name", "")),
        description=str(image.get("description", "")),
        created=parse_timestamp(image.get("creationTimestamp")),
        deprecated=state in ("DEPRECATED", "OBSOLETE", "DELETED"),
        deprecation_time=parse_timestamp(deprecation.get("deprecated")),
        family=str(image.get("family", "")),
    )


def _project_of(image: dict[str, Any], fallback: str) -> str:
    link = str(image.get("selfLink", ""))
    marker = "/projects/"
    if marker in link:
        return link.split(marker, 1)[1].split("/", 1)[0]
    return fallback


class GcpAdapter:
    def __init__(self, region: str | None) -> None:
        try:
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError
            from google.auth.transport.requests import AuthorizedSession
        except ImportError as exc:
            raise MissingExtraError("verify on gcp needs google-auth: pip install 'imagevet[gcp]'") from exc
        self.endpoint = os.environ.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE") or DEFAULT_ENDPOINT
        if not self.endpoint.endswith("/"):
            self.endpoint += "/"
        self.session = None
        self.reason = ""
        try:
            credentials, _ = google.auth.default(scopes=SCOPES)
        except DefaultCredentialsError:
            self.reason = (
                "no Google Cloud credentials (set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth)"
            )
            return
        self.session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]

    def _get(self, project: str, path: str) -> tuple[dict[str, Any] | None, str]:
        import requests
        from google.auth.exceptions import GoogleAuthError

        if self.session is None:
            return None, self.reason
        url = f"{self.endpoint}projects/{quote(project, safe='')}/global/images/{path}"
        try:
            response = self.session.get(url, timeout=TIMEOUT)
        except GoogleAuthError as exc:
            return None, f"access denied (credentials could not be refreshed: {exc})"
        except requests.RequestException as exc:
            return None, f"cannot reach the Compute Engine API: {exc.__class__.__name__}"
        if response.status_code == 404:
            return None, "not found"
        if response.status_code in (401, 403):
            return None, "access denied"
        if response.status_code != 200:
            return None, f"Compute Engine answered HTTP {response.status_code}"
        try:
            document = response.json()
        except ValueError:
            return None, "Compute Engine answered with something that is not JSON"
        return (document, "") if isinstance(document, dict) else (None, "unexpected Compute Engine answer")

    def describe(self, ref: ImageRef) -> Lookup:
        project, name = ref.parts["project"], ref.parts["name"]
        image, reason = self._get(project, quote(name, safe=""))
        if image is None:
            return Lookup(None, f"{ref.image_id}: {reason}")
        return Lookup(record_from(image, _project_of(image, project)))

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        if "family" not in pattern or not record.owners:
            return None
        image, _ = self._get(record.owners[0], "family/" + quote(pattern["family"], safe=""))
        return record_from(image, _project_of(image, record.owners[0])) if image else None
