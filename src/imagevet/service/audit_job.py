"""An audit run by the service: open a target that the server (or a queue worker) can reach, run the
checks, collect the package inventory, and keep both as reports of one image version: the same
`imagevet/audit/v1` and `imagevet/packages/v1` documents the CLI pushes from CI.

The parameters come from the job row, so any worker can run the job from the database alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from imagevet.catalog.model import Catalog
from imagevet.model import OsRelease
from imagevet.target.base import REMOTE_PREFIXES
from imagevet.target.blocks import RemoteOptions
from imagevet.target.open import PREFIXES
from imagevet.target.ssh import SshOptions
from imagevet.vuln.matcher import Lookup

# The CLI's target forms (target/open.py), each with an absolute path: the service's working directory
# means nothing to the caller.
TARGET_PREFIXES = ("/", "ssh://", *(f"{prefix}/" for prefix in PREFIXES), *REMOTE_PREFIXES)


@dataclass(frozen=True)
class AuditRequest:
    """What to audit and how; validated when the job is created, so a bad request is a 4xx, not a job."""

    image: int
    target: str
    profile: str = "checklist"
    checks: tuple[str, ...] = ()
    lifecycle_years: float = 3.0
    sudo: bool = False
    timeout: float = 20.0
    region: str | None = None  # of an ami: target

    def params(self) -> dict[str, Any]:
        return {
            "image": self.image, "target": self.target, "profile": self.profile,
            "checks": list(self.checks), "lifecycle_years": self.lifecycle_years,
            "sudo": self.sudo, "timeout": self.timeout, "region": self.region,
        }  # fmt: skip

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AuditRequest:
        return cls(
            image=int(params["image"]), target=str(params["target"]), profile=str(params["profile"]),
            checks=tuple(params.get("checks") or ()), lifecycle_years=float(params["lifecycle_years"]),
            sudo=bool(params["sudo"]), timeout=float(params["timeout"]),
            region=None if params.get("region") is None else str(params["region"]),
        )  # fmt: skip


def check_request(request: AuditRequest) -> list[str]:
    """The check ids the request runs; raises ValueError with a one-line reason for a bad request.

    Targets are absolute (the service's working directory means nothing to the caller) and use the CLI's
    target forms."""
    from imagevet.audit import select_checks
    from imagevet.errors import CheckSelectionError

    if not request.target.startswith(TARGET_PREFIXES):
        raise ValueError(
            "target must be an absolute directory, ssh://[user@]host[:port], "
            "docker-archive:/, oci:/, tar:/ or disk:/ with an absolute path, ami:AMI-ID or an http(s):// URL"
        )
    if "\x00" in request.target or "\n" in request.target:
        raise ValueError("target must not contain NUL or newline characters")
    try:
        return select_checks(list(request.checks) or None, request.profile)
    except CheckSelectionError as exc:
        raise ValueError(str(exc)) from exc


def audit_documents(
    request: AuditRequest,
    catalog: Catalog,
    today: dt.date,
    advisories: Lookup | None,
    ssh: SshOptions | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit and packages documents for the request's target (the CLI's own renderers). ``ssh``
    holds the service's own key and known_hosts; the request sets the timeout and sudo."""
    from imagevet.audit import run_audit, with_cloud_checks
    from imagevet.checks.base import CheckOptions
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.provenance.verify import verify_target
    from imagevet.report import packages as packages_report
    from imagevet.report.json_report import report_dict
    from imagevet.target import opened_target

    check_ids = check_request(request)
    options = CheckOptions(as_of=today, lifecycle_years=request.lifecycle_years, catalog=catalog)
    ssh_options = dataclasses.replace(ssh or SshOptions(), timeout=request.timeout, sudo=request.sudo)
    remote = RemoteOptions(region=request.region, timeout=request.timeout)
    with opened_target(request.target, ssh_options, remote) as target:
        described = verify_target(target.info, catalog, dt.datetime.combine(today, dt.time(), dt.UTC))
        if described is not None:  # an ami: target: its publisher judged from the description it was read by
            options = dataclasses.replace(options, provenance=described, cloud="aws")
            check_ids = check_ids if request.checks else with_cloud_checks(check_ids)
            check_ids = check_ids if "source-official" in check_ids else ["source-official", *check_ids]
        report = run_audit(target, options, check_ids, None, advisories)
        os_release = gather_os_release(target)
        os_known = os_release if isinstance(os_release, OsRelease) else None
        inventory = collect_inventory(target, os_known)
        info = target.info
    created = dt.datetime.now(dt.UTC)
    packages = packages_report.PackagesReport(info, os_known, inventory, created)
    return report_dict(report), json.loads(packages_report.render_json(packages))
