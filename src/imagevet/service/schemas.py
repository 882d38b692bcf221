"""The API's request bodies (validated by pydantic before a route runs) and its answers' shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from imagevet.service import ingest
from imagevet.service.db import REMEDIATION, Finding, ImageVersion, Instance, Job
from imagevet.service.vocabulary import CLOUDS, one_of


class ImageIn(BaseModel):
    cloud: str = Field(pattern=one_of(CLOUDS))
    image_id: str = Field(min_length=1, max_length=512)
    release: str = Field(default="", max_length=64)
    layer: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=512)
    parent: str | None = Field(default=None, max_length=512, description="Parent image id, same cloud.")


class ImagePatch(BaseModel):
    remediation: str | None = Field(default=None, pattern=one_of(REMEDIATION))
    release: str | None = Field(
        default=None, pattern=ingest.RELEASE.pattern, description="Correct the release (e.g. debian-12)."
    )

    @model_validator(mode="after")
    def something_to_change(self) -> ImagePatch:
        if self.remediation is None and self.release is None:
            raise ValueError("give remediation, release or both")
        return self


class AuditIn(BaseModel):
    target: str = Field(
        min_length=1, max_length=4096,
        description="An absolute directory, ssh://[user@]host[:port], docker-archive:/, oci:/, tar:/ or "
        "disk:/ with an absolute path, as the service's host sees it; ami:AMI-ID or an http(s):// disk "
        "image URL.",
    )  # fmt: skip
    region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z0-9]+){1,3}-[0-9]{1,2}$", max_length=32,
        description="The AWS region of an ami: target (default: the service's AWS configuration).",
    )  # fmt: skip
    profile: str = Field(default="checklist", max_length=32)
    checks: list[str] = Field(default_factory=list, max_length=200)
    lifecycle_years: float = Field(default=3.0, ge=0, le=30)
    sudo: bool = False
    timeout: float = Field(default=20.0, gt=0, le=600, description="Network timeout for ssh targets.")


class InstanceIn(BaseModel):
    cloud: str = Field(pattern=one_of(CLOUDS))
    instance_id: str = Field(min_length=1, max_length=256)
    image_id: str = Field(min_length=1, max_length=512, description="The cloud image id it runs.")


def image_dict(image: ImageVersion) -> dict[str, Any]:
    return {
        "id": image.id,
        "cloud": image.cloud,
        "image_id": image.image_id,
        "release": image.release,
        "layer": image.layer,
        "name": image.name,
        "parent_id": image.parent_id,
        "remediation": image.remediation,
        "created_at": image.created_at.isoformat(),
    }


def instance_dict(instance: Instance) -> dict[str, Any]:
    return {"cloud": instance.cloud, "instance_id": instance.instance_id, "image": instance.image_version_id}


def shown_params(params: Any) -> Any:
    """A job's parameters as the API shows them: a URL target without its query (a signed URL's
    signature is a credential the job needs, and nobody reading jobs should get)."""
    target = params.get("target") if isinstance(params, dict) else None
    if not isinstance(target, str):
        return params
    from imagevet.fleet import shown_name

    return {**params, "target": shown_name(target)}


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "attempts": job.attempts,
        "params": shown_params(job.params),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "image": finding.image_version_id,
        "vuln_id": finding.vuln_id,
        "aliases": finding.aliases,
        "package": finding.package,
        "installed": finding.installed,
        "fixed": finding.fixed,
        "severity": finding.severity,
        "origin": finding.origin,
        "first_seen": finding.first_seen.isoformat(),
    }
