"""Commands that judge an image: audit (one target or a fleet), compliance, checks."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from imagevet.cli.common import (
    CLOUD_CHOICES,
    MAX_DB_AGE_DAYS,
    AllowStaleOption,
    DbOption,
    FailOn,
    ListFormat,
    MaxDbAgeOption,
    PushOption,
    SeverityOption,
    TokenOption,
    advisories_for,
    app,
    check_push,
    data_dir,
    notice,
    now_for,
    output_option,
    parse_date,
    parse_min_version,
    progress,
    push_if_asked,
    read_user_file,
    table_width,
    use_color,
    write_output,
)
from imagevet.cli.declare import Argument, Option
from imagevet.cli.remote import (
    TARGET_HELP,
    DownloadOption,
    RegionOption,
    cli_target,
    end_progress,
    remote_options,
)
from imagevet.errors import ImagevetError
from imagevet.model import Gate, Report, Status
from imagevet.report.audit import Format as AuditFormat
from imagevet.report.compliance import Format as ComplianceFormat
from imagevet.report.source import source_line

if TYPE_CHECKING:
    from imagevet.waivers import WaiverSet

# The checks that match packages against the advisory database.
NEEDS_ADVISORIES = {"updates-pending-security"}


@app.command()
def audit(
    target: Annotated[
        str | None,
        Argument(help=TARGET_HELP),
    ] = None,
    fmt: Annotated[AuditFormat, Option("--format", "-f", help="Output format.")] = AuditFormat.TABLE,
    output: Annotated[Path | None, output_option("Write the report to FILE")] = None,
    fail_on: Annotated[
        FailOn,
        Option(
            "--fail-on", help="Exit 1 when a check fails, or cannot be decided, at or above this severity."
        ),
    ] = FailOn.HIGH,
    allow_errors: Annotated[
        bool, Option("--allow-errors", help="Checks that could not be decided do not fail the run.")
    ] = False,
    severity: SeverityOption = None,
    waivers: Annotated[Path | None, Option("--waivers", help="YAML file of accepted risks.")] = None,
    lifecycle_years: Annotated[
        float, Option("--lifecycle-years", min=0, help="Years of security support the image needs.")
    ] = 3.0,
    as_of: Annotated[str | None, Option("--as-of", help="Date to judge lifecycles by (YYYY-MM-DD).")] = None,
    min_cloud_init: Annotated[
        str | None,
        Option(
            "--min-cloud-init",
            help="Oldest cloud-init version (X.Y) that passes cloudinit-version; default 22.1, the guide's.",
        ),
    ] = None,
    checks: Annotated[str | None, Option("--checks", help="Comma-separated check ids to run.")] = None,
    profile: Annotated[
        str, Option("--profile", help="checklist (default), cis-l1, mlps-l3, pci-dss or all.")
    ] = "checklist",
    cloud: Annotated[
        str | None,
        Option("--cloud", help=f"{CLOUD_CHOICES}: also check readiness; onprem: none."),
    ] = None,
    image_id: Annotated[
        str | None,
        Option("--image-id", help="With --cloud: verify this image id's publisher (check source-official)."),
    ] = None,
    region: Annotated[
        str | None,
        Option(
            "--region",
            help="Cloud region of an ami: target (default: $AWS_REGION, else boto3's) or of --image-id.",
        ),
    ] = None,
    download: DownloadOption = False,
    db: DbOption = None,
    max_db_age: MaxDbAgeOption = MAX_DB_AGE_DAYS,
    allow_stale_db: AllowStaleOption = False,
    identity: Annotated[
        Path | None, Option("--identity", help="SSH private key (overrides ssh config).")
    ] = None,
    known_hosts: Annotated[
        Path | None, Option("--known-hosts", help="SSH known_hosts file (overrides ssh config).")
    ] = None,
    timeout: Annotated[
        float, Option("--timeout", min=0.1, help="Per-host network timeout in seconds.")
    ] = 20.0,
    sudo: Annotated[bool, Option("--sudo", help="Read root-only files over SSH with sudo -n.")] = False,
    inventory: Annotated[
        Path | None, Option("--inventory", help="Audit every host of a host list or Ansible inventory.")
    ] = None,
    concurrency: Annotated[int, Option("--concurrency", min=1, max=256, help="Hosts audited at once.")] = 16,
    output_dir: Annotated[
        Path | None,
        Option("--output-dir", help="With --inventory: write one JSON report per host here."),
    ] = None,
    push: PushOption = None,
    token: TokenOption = None,
) -> None:
    """Audit an image (or hosts) against the pre-deployment checklist."""
    from imagevet.audit import run_audit
    from imagevet.audit_plan import (
        ami_cloud_and_id,
        plan_for_ami,
        planned_checks,
        public_cloud_of,
        with_source_check,
    )
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import MIN_CLOUD_INIT, CheckOptions
    from imagevet.checks.cloud import readiness
    from imagevet.checks.registry import CHECKS
    from imagevet.report import audit as render
    from imagevet.report.filter import parse_severities
    from imagevet.target import opened_target
    from imagevet.target.base import REMOTE_PREFIXES

    if (target is None) == (inventory is None):
        raise ImagevetError("give exactly one of TARGET or --inventory FILE")
    if target is not None and target.startswith("ami:"):
        cloud, image_id = ami_cloud_and_id(target, cloud, image_id)
    if region is None and (cloud == "aws" or (inventory is not None and cloud is None)):
        region = os.environ.get("AWS_REGION") or None  # the other AWS SDKs' variable; botocore lacks it
    if inventory is None:
        check_push(push, token, cloud, image_id)
    today = parse_date(as_of)
    shown = None if severity is None else parse_severities(severity)
    cloud_init_floor = (
        MIN_CLOUD_INIT if min_cloud_init is None else parse_min_version(min_cloud_init, "--min-cloud-init")
    )
    requested = [c.strip() for c in checks.split(",") if c.strip()] if checks else None
    public_cloud = public_cloud_of(cloud)
    check_ids = planned_checks(requested, profile, public_cloud, list(readiness()))
    waiver_set: WaiverSet | None = None
    if waivers is not None:  # the waiver parser is imported only for a run that has waivers
        from imagevet.waivers import LIMITS as WAIVER_LIMITS
        from imagevet.waivers import parse_waivers

        text = read_user_file(waivers, "waiver file", max_bytes=4 * WAIVER_LIMITS.max_chars)
        waiver_set = parse_waivers(text, set(CHECKS), today, source=str(waivers))
    catalog = load_catalog(data_dir())
    provenance = None
    if image_id is not None and cloud is None:
        raise ImagevetError("--image-id needs --cloud (the cloud that hosts the image, or onprem)")
    if image_id is not None and public_cloud is not None and not (target or "").startswith("ami:"):
        from imagevet.provenance.verify import verify_image

        provenance = verify_image(public_cloud, image_id, catalog, now_for(as_of), region)
        check_ids = with_source_check(check_ids)
    options = CheckOptions(
        as_of=today,
        lifecycle_years=lifecycle_years,
        catalog=catalog,
        cloud=public_cloud,
        provenance=provenance,
        min_cloud_init=cloud_init_floor,
    )
    # Options of the kinds of target this run may open: a local root needs neither (nor their modules).
    fleet = inventory is not None
    ssh_options = None
    if fleet or (target or "").startswith("ssh://"):
        from imagevet.target.ssh import SshOptions

        ssh_options = SshOptions(
            identity=str(identity) if identity else None,
            known_hosts=str(known_hosts) if known_hosts else None,
            timeout=timeout,
            sudo=sudo,
        )
    advisories = advisories_for(db, max_db_age, allow_stale_db) if NEEDS_ADVISORIES & set(check_ids) else None
    gate = Gate(fail_on.severity(), allow_errors)
    remote = None
    if fleet or (target or "").startswith(REMOTE_PREFIXES):
        remote = remote_options(region, download, timeout, progress=inventory is None)  # fleets: own bar

    def audit_spec(spec: str) -> Report:
        with opened_target(spec, ssh_options, remote) as opened:
            described = None
            if opened.info.source is not None:  # an ami: target carries its DescribeImages answer
                from imagevet.provenance.verify import verify_target

                described = verify_target(opened.info, catalog, now_for(as_of))
            if described is None:
                return run_audit(opened, options, check_ids, waiver_set, advisories, gate)
            ids, run_options = plan_for_ami(check_ids, requested, options, described)
            return run_audit(opened, run_options, ids, waiver_set, advisories, gate)

    if inventory is not None:
        if push is not None:
            raise ImagevetError(
                "--push sends one image's report; with --inventory, push each --output-dir file"
            )
        if fmt not in (AuditFormat.TABLE, AuditFormat.JSON):
            raise ImagevetError("--inventory reports as table or json; per-host documents go to --output-dir")
        if shown is not None:
            raise ImagevetError("--severity filters one image's report; --inventory shows one row per host")
        run_fleet(inventory, audit_spec, concurrency, output_dir, fmt, output)
        return
    assert target is not None
    try:
        report = audit_spec(target)
    finally:
        if remote is not None:
            end_progress(remote)
    if report.target.source is not None:
        notice(source_line(report.target.source))
    for message in report.notices:
        notice(message)
    color, _ = use_color(output, fmt is AuditFormat.TABLE)
    document = render.document(report, shown)
    write_output(render.render(document, fmt, color=color, width=table_width(output)), output)
    if push is not None:  # the inventory keeps every result, whatever --severity showed
        push_if_asked(push, token, document if shown is None else render.document(report), cloud, image_id)
    for line in gate_notices(report):
        notice(line)
    if report.gate_failures():
        raise SystemExit(1)


def undecided_lines(report: Report) -> list[str]:
    """Each check that could not be decided, with its reason (which names the fix)."""
    errors = [r for r in report.results if r.status is Status.ERROR]
    return [f"{r.check} could not be decided: {'; '.join(str(e) for e in r.evidence)}" for r in errors]


def gate_notices(report: Report) -> list[str]:
    """What stderr says after the report: the undecided checks, and whether they trip the gate."""
    errors = [r for r in report.results if r.status is Status.ERROR]
    lines = undecided_lines(report)
    tripping = [r for r in errors if report.gate.trips(r)]
    if tripping:
        lines.append(
            f"{len(tripping)} check(s) could not be decided and fail the gate "
            f"({', '.join(r.check for r in tripping)}): resolve the cause above, waive the check, "
            "or pass --allow-errors"
        )
    elif errors:
        lines.append(f"{len(errors)} check(s) could not be decided (below --fail-on, or --allow-errors)")
    return lines


def run_fleet(
    inventory: Path,
    audit_spec: Callable[[str], Report],
    concurrency: int,
    output_dir: Path | None,
    fmt: AuditFormat,
    output: Path | None,
) -> None:
    """Audit every host of the inventory; exit 2 if a host could not be audited, else 1 on gate failures."""

    from imagevet.fleet import MAX_CHARS, HostResult, audit_fleet, parse_inventory
    from imagevet.report import audit as audit_report
    from imagevet.report import fleet

    text = read_user_file(inventory, "inventory", max_bytes=4 * MAX_CHARS)
    hosts = parse_inventory(text, inventory.name)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)

    def save(result: HostResult) -> None:
        if output_dir is not None and result.report is not None:
            safe = re.sub(r"[^A-Za-z0-9._@-]+", "_", result.host.name).strip("_") or "host"
            host = audit_report.document(result.report)
            write_output(audit_report.render(host, AuditFormat.JSON), output_dir / f"{safe}.json")

    with progress("auditing hosts", total=len(hosts)) as line:

        def step(result: HostResult) -> None:
            save(result)
            line.step(f"audited {result.host.name}")

        results = audit_fleet(hosts, lambda host: audit_spec(host.spec), concurrency, step)
    color, _ = use_color(output, fmt is AuditFormat.TABLE)
    shape = fleet.Format(fmt.value)  # table or json: checked before the hosts were audited
    write_output(fleet.render(fleet.document(results), shape, color=color, width=table_width(output)), output)
    errors = [r for r in results if r.error is not None]
    for result in errors:
        notice(f"{result.host.name}: {result.error}")
    if errors:
        raise SystemExit(2)
    if any(r.report is not None and r.report.gate_failures() for r in results):
        raise SystemExit(1)


@app.command()
def compliance(
    target: Annotated[str, Argument(help=TARGET_HELP)],
    framework_key: Annotated[str, Option("--framework", help="cis-l1, mlps-l3 or pci-dss.")],
    fmt: Annotated[
        ComplianceFormat, Option("--format", "-f", help="Output format.")
    ] = ComplianceFormat.TABLE,
    output: Annotated[Path | None, output_option("Write the report to FILE")] = None,
    as_of: Annotated[str | None, Option("--as-of", help="Date to judge lifecycles by (YYYY-MM-DD).")] = None,
    lifecycle_years: Annotated[float, Option("--lifecycle-years", min=0)] = 3.0,
    db: DbOption = None,
    max_db_age: MaxDbAgeOption = MAX_DB_AGE_DAYS,
    allow_stale_db: AllowStaleOption = False,
    allow_errors: Annotated[
        bool, Option("--allow-errors", help="Controls that could not be decided do not fail the run.")
    ] = False,
    region: RegionOption = None,
    download: DownloadOption = False,
) -> None:
    """Report a framework's controls for a target: met, not met, undecided or manual; with coverage.
    Exit 1 when a control is not met, or could not be decided (unless --allow-errors)."""
    from imagevet.audit import run_audit
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.compliance import NOT_MET, UNDECIDED, assess, for_image, framework
    from imagevet.report import compliance as render

    frame = framework(framework_key)
    options = CheckOptions(
        as_of=parse_date(as_of), lifecycle_years=lifecycle_years, catalog=load_catalog(data_dir())
    )
    check_ids = frame.check_ids()
    advisories = advisories_for(db, max_db_age, allow_stale_db) if NEEDS_ADVISORIES & set(check_ids) else None
    with cli_target(target, region, download) as opened:
        report = run_audit(opened, options, check_ids, None, advisories)
    frame = for_image(frame, report)
    judged, coverage = assess(frame, report)
    color, _ = use_color(output, fmt is ComplianceFormat.TABLE)
    document = render.document(frame, report, judged, coverage)
    write_output(render.render(document, fmt, color=color, width=table_width(output)), output)
    for line in undecided_lines(report):
        notice(line)
    if coverage[UNDECIDED]:
        tail = "" if allow_errors else " and fail the run (resolve the cause above, or pass --allow-errors)"
        notice(f"{coverage[UNDECIDED]} control(s) could not be decided{tail}")
    if coverage[NOT_MET] or (coverage[UNDECIDED] and not allow_errors):
        raise SystemExit(1)


@app.command("checks")
def list_checks(
    fmt: Annotated[ListFormat, Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """List the available checks with their metadata."""

    from imagevet.checks.metadata import builtin_metadata
    from imagevet.checks.registry import CHECKS
    from imagevet.report import checks as render

    metadata = builtin_metadata()
    document = render.document(metadata[c] for c in CHECKS)
    write_output(render.render(document, render.Format(fmt.value)), None)
