"""Azure Marketplace images through the Azure Resource Manager REST API (Microsoft.Compute
VirtualMachineImages: get and list versions) with azure-identity's DefaultAzureCredential (extra
``azure``): environment, workload or managed identity, Azure CLI … as azure-identity orders them
(``AZURE_TOKEN_CREDENTIALS`` narrows the chain). The subscription is ``AZURE_SUBSCRIPTION_ID``; the
location ``--region`` or ``AZURE_LOCATION`` (default eastus). ``IMAGEVET_AZURE_ENDPOINT`` replaces
https://management.azure.com (sovereign clouds, tests). REST rather than azure-mgmt-compute: two GET calls
do not justify the whole management SDK in the install."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote

from imagevet.provenance.adapters import MissingExtraError
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup

API_VERSION = "2024-07-01"
DEFAULT_ENDPOINT = "https://management.azure.com"
DEFAULT_LOCATION = "eastus"
SCOPE = "https://management.azure.com/.default"
TIMEOUT = (5, 20)


def version_key(version: str) -> tuple[int, ...]:
    """Marketplace versions are dotted integers (22.04.202411010, 0.20241010.1900): compare them as such."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


class AzureAdapter:
    def __init__(self, region: str | None) -> None:
        try:
            import requests
            from azure.identity import DefaultAzureCredential
        except ImportError as exc:
            raise MissingExtraError(
                "verify on azure needs azure-identity: pip install 'imagevet[azure]'"
            ) from exc
        self.location = region or os.environ.get("AZURE_LOCATION") or DEFAULT_LOCATION
        self.endpoint = (os.environ.get("IMAGEVET_AZURE_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.subscription = os.environ.get("AZURE_SUBSCRIPTION_ID", "")
        self.credential = DefaultAzureCredential()
        self.http = requests.Session()
        self.token = ""

    def _bearer(self) -> str:
        from azure.core.exceptions import ClientAuthenticationError

        if not self.token:
            try:
                self.token = self.credential.get_token(SCOPE).token
            except ClientAuthenticationError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                raise PermissionError(f"no Azure credentials ({first[:160]})") from exc
        return self.token

    def _get(self, path: str, **params: str) -> tuple[Any, str]:
        import requests

        if not self.subscription:
            return None, "no Azure subscription (set AZURE_SUBSCRIPTION_ID)"
        try:
            headers = {"Authorization": f"Bearer {self._bearer()}"}
        except PermissionError as exc:
            return None, str(exc)
        subscription = quote(self.subscription, safe="")
        url = f"{self.endpoint}/subscriptions/{subscription}/providers/Microsoft.Compute{path}"
        try:
            response = self.http.get(
                url, headers=headers, params={"api-version": API_VERSION, **params}, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            return None, f"cannot reach Azure Resource Manager: {exc.__class__.__name__}"
        if response.status_code == 404:
            return None, "not found"
        if response.status_code in (401, 403):
            return None, "access denied"
        if response.status_code != 200:
            return None, f"Azure Resource Manager answered HTTP {response.status_code}"
        try:
            return response.json(), ""
        except ValueError:
            return None, "Azure Resource Manager answered with something that is not JSON"

    def _base(self, parts: dict[str, str]) -> str:
        location, publisher, offer, sku = (
            quote(value, safe="")
            for value in (
                parts.get("location") or self.location,
                parts["publisher"],
                parts["offer"],
                parts["sku"],
            )
        )
        image = f"/publishers/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}"
        return f"/locations/{location}{image}/versions"

    def _versions(self, parts: dict[str, str]) -> tuple[list[str], str]:
        listing, reason = self._get(self._base(parts))
        if listing is None:
            return [], reason
        names = (
            [str(v.get("name", "")) for v in listing if isinstance(v, dict)]
            if isinstance(listing, list)
            else []
        )
        return sorted((n for n in names if n), key=version_key), ""

    def describe(self, ref: ImageRef) -> Lookup:
        parts = dict(ref.parts)
        version = parts["version"]
        if version.lower() == "latest":
            versions, reason = self._versions(parts)
            if reason or not versions:
                return Lookup(None, f"{ref.image_id}: {reason or 'no versions published'}")
            version = versions[-1]
        image, reason = self._get(f"{self._base(parts)}/{quote(version, safe='')}")
        if image is None:
            return Lookup(None, f"{ref.image_id}: {reason}")
        properties = image.get("properties", {}) if isinstance(image, dict) else {}
        state = str((properties.get("imageDeprecationStatus") or {}).get("imageState", ""))
        urn = ":".join((parts["publisher"], parts["offer"], parts["sku"], version))
        return Lookup(
            ImageRecord(
                image_id=urn,
                owners=(parts["publisher"],),
                name=f"{parts['offer']}:{parts['sku']}",
                os_distro=str((properties.get("osDiskImage") or {}).get("operatingSystem", "")),
                deprecated=state == "Deprecated",
            )
        )

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        publisher, offer, sku, version = record.image_id.split(":")
        versions, reason = self._versions({"publisher": publisher, "offer": offer, "sku": sku})
        if reason or not versions or version_key(versions[-1]) <= version_key(version):
            return None
        return ImageRecord(":".join((publisher, offer, sku, versions[-1])), record.owners, record.name)
