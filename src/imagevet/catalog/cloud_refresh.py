"""Refresh the publisher facts that change from the cloud itself: `imagevet catalog update --from-cloud aws`.

For every AWS image of the catalog its lookup is resolved the way the printed command does it: the public
SSM parameter (ssm:GetParameter), else the AMI name pattern owned by the publisher (ec2:DescribeImages,
newest CreationDate). The AMI found is described (its name, creation date and owner); an image whose
lookup returns nothing is ``missing``; one whose lookup still has a placeholder (``<k8s-version>``) is
``skipped``. Canonical's and Amazon's public SSM trees (ssm:GetParametersByPath) are walked for releases
the catalog does not list yet: those are reported as ``new``, never made into catalog records.

boto3 (extra ``aws``) is imported lazily; credentials, region and endpoints come from its usual chain
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_EC2``, ``AWS_ENDPOINT_URL_SSM``). A permission the caller lacks
is an :class:`AccessDeniedError` naming the exact IAM action; nothing is written then.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from imagevet.catalog.image_overrides import CloudFacts, ImageFact, ImageOverrides, NewRelease
from imagevet.catalog.model import Catalog, Offering
from imagevet.errors import ImagevetError

CLOUDS = ("aws",)
SOURCE = "cloud APIs (imagevet catalog update --from-cloud)"
PLACEHOLDER = re.compile(r"<[^<>]+>")
MAX_PARAMETERS = 100_000  # per public tree: Canonical's holds every dated build of every release
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden"}
)
CANONICAL_TREE = "/aws/service/canonical/ubuntu/server/"
AMAZON_TREE = "/aws/service/ami-amazon-linux-latest/"
_CANONICAL = re.compile(
    r"/aws/service/canonical/ubuntu/server/([^/]+)/stable/current/([^/]+)/hvm/([^/]+)/ami-id"
)
_AMAZON = re.compile(r"/aws/service/ami-amazon-linux-latest/(.+?)-(?:x86_64|arm64)(?:-.*)?")


class RefreshError(ImagevetError):
    """The cloud could not be asked (credentials, network, an unexpected answer); nothing was written."""


class AccessDeniedError(RefreshError):
    """The caller lacks an IAM permission; the message names the action."""


class AwsApi(Protocol):
    region: str

    def parameter(self, name: str) -> str | None: ...

    def images_named(self, owner: str, pattern: str) -> list[dict[str, Any]]: ...

    def image(self, image_id: str) -> dict[str, Any] | None: ...

    def parameters_under(self, path: str) -> Iterator[tuple[str, str]]: ...


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


class Boto3Aws:
    """The AWS API through boto3: SSM and EC2 clients of one region."""

    def __init__(self, region: str | None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise RefreshError("--from-cloud aws needs boto3: pip install 'imagevet[aws]'") from exc
        session = boto3.session.Session(region_name=region)
        if not session.region_name:
            raise RefreshError(
                "no AWS region: give --region or set AWS_REGION (public parameters are per region)"
            )
        self.region = str(session.region_name)
        config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
        self._ssm = session.client("ssm", region_name=self.region, config=config)
        self._ec2 = session.client("ec2", region_name=self.region, config=config)

    def _call(self, action: str, call: Callable[[], Any], absent: tuple[str, ...] = ()) -> Any:
        """One API call; ``None`` when AWS answers with one of the ``absent`` error codes."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return call()
        except NoCredentialsError as exc:
            raise RefreshError(
                "no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            ) from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in absent:
                return None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in DENIED or (status == 403 and code in ("403", "")):  # an unparsed 403 body too
                raise AccessDeniedError(
                    f"AWS denied {action} in {self.region} ({code}): the caller needs the IAM permission "
                    f"{action}"
                ) from exc
            message = _one_line(exc.response.get("Error", {}).get("Message", "")) or "no message"
            raise RefreshError(f"{action} failed in {self.region}: {code or 'error'}: {message}") from exc
        except BotoCoreError as exc:
            raise RefreshError(f"{action}: cannot reach AWS in {self.region}: {_one_line(exc)}") from exc

    def parameter(self, name: str) -> str | None:
        answer = self._call(
            "ssm:GetParameter",
            lambda: self._ssm.get_parameter(Name=name),
            ("ParameterNotFound", "ParameterVersionNotFound"),
        )
        if answer is None:
            return None
        value = answer.get("Parameter", {}).get("Value")
        return str(value) if value else None

    def images_named(self, owner: str, pattern: str) -> list[dict[str, Any]]:
        answer = self._call(
            "ec2:DescribeImages",
            lambda: self._ec2.describe_images(
                Owners=[owner], Filters=[{"Name": "name", "Values": [pattern]}]
            ),
        )
        return list((answer or {}).get("Images", []))

    def image(self, image_id: str) -> dict[str, Any] | None:
        answer = self._call(
            "ec2:DescribeImages",
            lambda: self._ec2.describe_images(ImageIds=[image_id]),
            ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed"),
        )
        images = list((answer or {}).get("Images", []))
        return images[0] if images else None

    def parameters_under(self, path: str) -> Iterator[tuple[str, str]]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Path": path, "Recursive": True, "MaxResults": 10}
            if token:
                kwargs["NextToken"] = token
            page = functools.partial(self._ssm.get_parameters_by_path, **kwargs)
            answer = self._call("ssm:GetParametersByPath", page)
            for parameter in answer.get("Parameters", []):
                yield str(parameter.get("Name", "")), str(parameter.get("Value", ""))
            token = answer.get("NextToken")
            if not token:
                return


# --- resolving one image -------------------------------------------------------------------------------


def _described(
    offering: Offering, image: dict[str, Any], via: str, base: dict[str, str], reason: str = ""
) -> ImageFact:
    owner = str(image.get("OwnerId") or "") or None
    if owner is not None and owner not in offering.publisher.ids and not reason:
        reason = f"owner {owner} is not one of the publisher's ids"
    return ImageFact(
        image=offering.image,
        status="found",
        id=str(image["ImageId"]),
        name=str(image.get("Name") or "") or None,
        created=str(image.get("CreationDate") or "") or None,
        owner=owner,
        via=via,
        reason=reason,
        **base,
    )


def resolve(offering: Offering, api: AwsApi, checked: str) -> ImageFact:
    """The latest AMI an AWS image's lookup gives, or why there is none."""
    base = {"region": api.region, "checked": checked}
    lookup = offering.lookup
    ssm, pattern = lookup.get("ssm"), lookup.get("name")
    usable = [value for value in (ssm, pattern) if value and not PLACEHOLDER.search(value)]
    if not usable:
        holes = sorted({m.group(0) for v in (ssm, pattern) if v for m in PLACEHOLDER.finditer(v)})
        return ImageFact(offering.image, "skipped", reason=f"the lookup needs {', '.join(holes)}", **base)
    tried: list[str] = []
    if ssm and not PLACEHOLDER.search(ssm):
        value = api.parameter(ssm)
        if value:
            image = api.image(value)
            if image is not None:
                return _described(offering, {**image, "ImageId": value}, "ssm", base)
            return ImageFact(
                offering.image, "found", id=value, via="ssm",
                reason="the parameter's AMI is not visible to ec2:DescribeImages", **base,
            )  # fmt: skip
        tried.append(f"SSM parameter {ssm} not found")
    if pattern and not PLACEHOLDER.search(pattern):
        owner = lookup.get("owner", offering.publisher.ids[0])
        images = [i for i in api.images_named(owner, pattern) if i.get("ImageId")]
        if images:
            newest = max(images, key=lambda i: str(i.get("CreationDate") or ""))
            return _described(offering, newest, "name", base)
        tried.append(f"no AMI named {pattern} owned by {owner}")
    return ImageFact(offering.image, "missing", reason="; ".join(tried), **base)


# --- new releases in the publishers' public trees ------------------------------------------------------


def _collect(api: AwsApi, path: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for item in api.parameters_under(path):
        found.append(item)
        if len(found) > MAX_PARAMETERS:
            raise RefreshError(f"{path}: more than {MAX_PARAMETERS} public parameters; refusing the answer")
    return found


def _canonical_version(segment: str, codenames: dict[str, str]) -> str:
    return codenames.get(segment.lower(), segment)


def discover(catalog: Catalog, api: AwsApi) -> list[NewRelease]:
    """Releases under Canonical's and Amazon's public SSM trees that no catalog image looks up."""
    offerings = catalog.clouds["aws"].offerings if "aws" in catalog.clouds else ()
    codenames = {
        r.codename.split()[0].lower(): r.version
        for r in catalog.releases
        if r.distro == "ubuntu" and r.codename
    }
    known_versions: set[str] = set()
    known_families: set[str] = set()
    for offering in offerings:
        ssm = offering.lookup.get("ssm", "")
        if ssm.startswith(CANONICAL_TREE):
            known_versions.add(_canonical_version(ssm[len(CANONICAL_TREE) :].split("/")[0], codenames))
        elif ssm.startswith(AMAZON_TREE):
            match = _AMAZON.fullmatch(ssm)
            known_families.add(match.group(1) if match else ssm[len(AMAZON_TREE) :])
    new: dict[str, NewRelease] = {}

    canonical = sorted(_collect(api, CANONICAL_TREE))
    for name, value in canonical:
        match = _CANONICAL.fullmatch(name)
        if not match:
            continue
        version = _canonical_version(match.group(1), codenames)
        if version in known_versions:
            continue
        release = f"ubuntu {version}"
        best = match.group(2) == "amd64" and match.group(3) == "ebs-gp3"
        if release not in new or best:
            new[release] = NewRelease(release, name, value)
    for name, value in sorted(_collect(api, AMAZON_TREE)):
        match = _AMAZON.fullmatch(name)
        family = match.group(1) if match else name[len(AMAZON_TREE) :]
        if family in known_families:
            continue
        release = f"amazon-linux {family}"
        if release not in new or name.endswith("-x86_64"):
            new[release] = NewRelease(release, name, value)
    return [new[key] for key in sorted(new)]


def refresh_aws(
    catalog: Catalog,
    api: AwsApi,
    checked: str,
    progress: Callable[[str], None] | None = None,
) -> CloudFacts:
    """Every AWS image's latest facts and the new releases, from one region."""
    offerings = catalog.clouds["aws"].offerings if "aws" in catalog.clouds else ()
    images: dict[str, ImageFact] = {}
    for offering in offerings:
        if progress is not None:
            progress(offering.image)
        images[offering.image] = resolve(offering, api, checked)
    if progress is not None:
        progress("new releases")
    return CloudFacts("aws", api.region, checked, images, tuple(discover(catalog, api)))


def merged(previous: ImageOverrides | None, facts: CloudFacts) -> ImageOverrides:
    """The override file's records with one cloud's replaced (other clouds' facts are kept)."""
    clouds = {} if previous is None else dict(previous.clouds)
    clouds[facts.cloud] = facts
    return ImageOverrides(SOURCE, clouds)
