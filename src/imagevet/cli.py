"""Command line: the only place that prints, exits, reads the clock and the environment."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from imagevet import __version__
from imagevet.errors import ImagevetError
from imagevet.model import Report, Severity, Unknown
from imagevet.report import AuditFormat

app = typer.Typer(
    name="imagevet",
    help="Choose cloud server OS images and prove they are fit to deploy.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class FailOn(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NEVER = "never"

    def severity(self) -> Severity | None:
        return None if self is FailOn.NEVER else Severity(self.value)


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imagevet {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """imagevet: recommend, audit and govern cloud server OS images."""


def parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ImagevetError(f"--as-of {text!r} is not a YYYY-MM-DD date") from exc


def write_output(text: str, output: Path | None) -> None:
    """Write to stdout, or atomically to ``output`` so a failed run never truncates an existing file."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if output.is_dir():
        raise ImagevetError(f"--output {str(output)!r} is a directory")
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise ImagevetError(f"--output directory {str(directory)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except OSError as exc:
        raise ImagevetError(f"cannot write {output}: {exc.strerror}") from exc


def read_user_file(path: Path, what: str) -> str:
    """A text file the user named (waivers, inventory): its content, or a one-line error."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImagevetError(f"cannot read {what} {str(path)!r}: {exc}") from exc


def notice(message: str) -> None:
    sys.stderr.write(f"imagevet: {message}\n")


def data_dir() -> Path:
    from imagevet.catalog.store import data_dir_from_env

    return data_dir_from_env(dict(os.environ), Path.home())


def db_path(option: Path | None) -> Path:
    """--db, else $IMAGEVET_DB, else <data dir>/osv.sqlite3."""
    if option is not None:
        return option
    if os.environ.get("IMAGEVET_DB"):
        return Path(os.environ["IMAGEVET_DB"])
    return data_dir() / "osv.sqlite3"


def open_advisories(path: Path) -> Callable[[tuple[str, ...], Iterable[str]], Iterable[Any]]:
    from imagevet.vuln.db import thread_lookup

    return thread_lookup(path)


def use_color(output: Path | None, table: bool) -> tuple[bool, int]:
    """Colour only for a table on a terminal, and never with NO_COLOR; width follows the terminal."""
    color = output is None and table and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = max(80, min(os.get_terminal_size().columns, 160)) if color else 120
    return color, width


SshIdentityOption = Annotated[
    Path | None,
    typer.Option("--ssh-identity", envvar="IMAGEVET_SSH_IDENTITY", help="SSH key for ssh:// audit jobs."),
]
SshKnownHostsOption = Annotated[
    Path | None,
    typer.Option(
        "--ssh-known-hosts", envvar="IMAGEVET_SSH_KNOWN_HOSTS", help="known_hosts for ssh:// audit jobs."
    ),
]


def service_ssh(identity: Path | None, known_hosts: Path | None) -> Any:
    """The service's own SSH options for audit jobs (ssh config and ~/.ssh when not given)."""
    from imagevet.target.ssh import SshOptions

    for path in (identity, known_hosts):
        if path is not None and not path.is_file():
            raise ImagevetError(f"{path} is not a readable file")
    return SshOptions(
        identity=str(identity) if identity else None, known_hosts=str(known_hosts) if known_hosts else None
    )


PushOption = Annotated[
    str | None, typer.Option("--push", help="Also send the JSON report to this imagevet service URL.")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="IMAGEVET_TOKEN", help="Write token for --push.")
]


def push_if_asked(
    server: str | None, token: str | None, document: Any, cloud: str | None, image_id: str | None
) -> None:
    """--push: send ``document`` as a report of (cloud, image id), registering the image if new."""
    if server is None:
        return
    if not token or not image_id:
        raise ImagevetError("--push needs --token (or IMAGEVET_TOKEN) and --image-id")
    from imagevet.service.client import push

    result = push(server, token, document, cloud or "onprem", image_id, register=True)
    notice(f"pushed {result['schema']} to {server} (image {result['image']}, report {result['id']})")


@app.command()
def audit(
    target: Annotated[
        str | None,
        typer.Argument(
            help="Directory ('/' is this host), docker-archive:FILE, oci:DIR[@TAG], tar:FILE, ssh://[user@]host[:port]."
        ),
    ] = None,
    fmt: Annotated[AuditFormat, typer.Option("--format", "-f", help="Output format.")] = AuditFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a check fails at or above this severity.")
    ] = FailOn.HIGH,
    waivers: Annotated[Path | None, typer.Option("--waivers", help="YAML file of accepted risks.")] = None,
    lifecycle_years: Annotated[
        float, typer.Option("--lifecycle-years", min=0, help="Years of security support the image needs.")
    ] = 3.0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge lifecycles by (YYYY-MM-DD).")
    ] = None,
    checks: Annotated[str | None, typer.Option("--checks", help="Comma-separated check ids to run.")] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="checklist (default), cis-l1, mlps-l3, pci-dss or all.")
    ] = "checklist",
    cloud: Annotated[
        str | None,
        typer.Option("--cloud", help="Also check readiness for aws, azure, alibaba, tencent or gcp."),
    ] = None,
    image_id: Annotated[
        str | None,
        typer.Option(
            "--image-id", help="With --cloud: verify this image id's publisher (check source-official)."
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Cloud region for --image-id.")] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    identity: Annotated[
        Path | None, typer.Option("--identity", help="SSH private key (overrides ssh config).")
    ] = None,
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="SSH known_hosts file (overrides ssh config).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Per-host network timeout in seconds.")
    ] = 20.0,
    sudo: Annotated[bool, typer.Option("--sudo", help="Read root-only files over SSH with sudo -n.")] = False,
    inventory: Annotated[
        Path | None, typer.Option("--inventory", help="Audit every host of a host list or Ansible inventory.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=256, help="Hosts audited at once.")
    ] = 16,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", help="With --inventory: write one JSON report per host here."),
    ] = None,
    push: PushOption = None,
    token: TokenOption = None,
) -> None:
    """Audit an image (or hosts) against the pre-deployment checklist."""
    from imagevet.audit import run_audit, select_checks
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.checks.registry import CHECKS
    from imagevet.report import render_audit
    from imagevet.target import opened_target
    from imagevet.target.ssh import SshOptions
    from imagevet.waivers import WaiverSet, parse_waivers

    if (target is None) == (inventory is None):
        raise ImagevetError("give exactly one of TARGET or --inventory FILE")
    today = parse_date(as_of)
    requested = [c.strip() for c in checks.split(",") if c.strip()] if checks else None
    check_ids = select_checks(requested, profile)
    if cloud is not None:
        from imagevet.checks.cloud import readiness

        if cloud not in readiness():
            raise ImagevetError(f"unknown cloud {cloud!r} (choose from: {', '.join(readiness())})")
        if requested is None:
            cloud_checks = [c for c in CHECKS if c.startswith("cloud-") and c not in check_ids]
            check_ids = [c for c in CHECKS if c in set(check_ids) | set(cloud_checks)]
    waiver_set: WaiverSet | None = None
    if waivers is not None:
        text = read_user_file(waivers, "waiver file")
        waiver_set = parse_waivers(text, set(CHECKS), today)
    catalog = load_catalog(data_dir())
    provenance = None
    if image_id is not None and cloud is None and push is None:
        raise ImagevetError("--image-id needs --cloud (the cloud that hosts the image)")
    if image_id is not None and cloud is not None:  # with --push alone, the id only names the report
        from imagevet.provenance.verify import verify_image

        provenance = verify_image(cloud, image_id, catalog, now_for(as_of), region)
        if "source-official" not in check_ids:
            check_ids = ["source-official", *check_ids]
    options = CheckOptions(
        as_of=today, lifecycle_years=lifecycle_years, catalog=catalog, cloud=cloud, provenance=provenance
    )
    ssh_options = SshOptions(
        identity=str(identity) if identity else None,
        known_hosts=str(known_hosts) if known_hosts else None,
        timeout=timeout,
        sudo=sudo,
    )
    database = db_path(db)
    advisories = (
        open_advisories(database) if "updates-pending-security" in check_ids and database.is_file() else None
    )

    def audit_spec(spec: str) -> Report:
        with opened_target(spec, ssh_options) as opened:
            return run_audit(opened, options, check_ids, waiver_set, advisories)

    if inventory is not None:
        if push is not None:
            raise ImagevetError(
                "--push sends one image's report; with --inventory, push each --output-dir file"
            )
        if fmt not in (AuditFormat.TABLE, AuditFormat.JSON):
            raise ImagevetError("--inventory reports as table or json; per-host documents go to --output-dir")
        run_fleet(inventory, audit_spec, concurrency, output_dir, fmt, output, fail_on)
        return
    assert target is not None
    report = audit_spec(target)
    for message in report.notices:
        notice(message)
    color, width = use_color(output, fmt is AuditFormat.TABLE)
    write_output(render_audit(report, fmt, color=color, width=width), output)
    if push is not None:
        from imagevet.report.json_report import report_dict

        push_if_asked(push, token, report_dict(report), cloud, image_id)
    summary = report.summary()
    if summary["error"]:
        notice(f"{summary['error']} check(s) could not be decided (status error)")
    if report.gate_failures(fail_on.severity()):
        raise typer.Exit(1)


def run_fleet(
    inventory: Path,
    audit_spec: Callable[[str], Report],
    concurrency: int,
    output_dir: Path | None,
    fmt: AuditFormat,
    output: Path | None,
    fail_on: FailOn,
) -> None:
    """Audit every host of the inventory; exit 2 if a host could not be audited, else 1 on gate failures."""
    import json

    from imagevet.fleet import HostResult, audit_fleet, parse_inventory
    from imagevet.report.fleet import fleet_document, render_fleet_table
    from imagevet.report.json_report import render_json

    text = read_user_file(inventory, "inventory")
    hosts = parse_inventory(text, inventory.name)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)

    def save(result: HostResult) -> None:
        if output_dir is not None and result.report is not None:
            safe = re.sub(r"[^A-Za-z0-9._@-]+", "_", result.host.name).strip("_") or "host"
            write_output(render_json(result.report), output_dir / f"{safe}.json")

    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("auditing hosts", total=len(hosts))

            def step(result: HostResult) -> None:
                save(result)
                progress.update(task, advance=1, description=f"audited {result.host.name}")

            results = audit_fleet(hosts, lambda host: audit_spec(host.spec), concurrency, step)
    else:
        results = audit_fleet(hosts, lambda host: audit_spec(host.spec), concurrency, save)
    severity = fail_on.severity()
    if fmt is AuditFormat.JSON:
        write_output(json.dumps(fleet_document(results, severity), indent=2) + "\n", output)
    else:
        color, width = use_color(output, True)
        write_output(render_fleet_table(results, severity, color=color, width=width), output)
    errors = [r for r in results if r.error is not None]
    for result in errors:
        notice(f"{result.host.name}: {result.error}")
    if errors:
        raise typer.Exit(2)
    if any(r.report is not None and r.report.gate_failures(severity) for r in results):
        raise typer.Exit(1)


class ComplianceFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"


@app.command()
def compliance(
    target: Annotated[str, typer.Argument(help="Any audit TARGET (directory, image, disk, ssh://host).")],
    framework_key: Annotated[str, typer.Option("--framework", help="cis-l1, mlps-l3 or pci-dss.")],
    fmt: Annotated[
        ComplianceFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ComplianceFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge lifecycles by (YYYY-MM-DD).")
    ] = None,
    lifecycle_years: Annotated[float, typer.Option("--lifecycle-years", min=0)] = 3.0,
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
) -> None:
    """Report a framework's controls for a target: met, not met, or manual; with coverage."""
    from imagevet.audit import run_audit
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.compliance import assess, framework
    from imagevet.report import compliance as render
    from imagevet.target import opened_target

    frame = framework(framework_key)
    options = CheckOptions(
        as_of=parse_date(as_of), lifecycle_years=lifecycle_years, catalog=load_catalog(data_dir())
    )
    database = db_path(db)
    advisories = open_advisories(database) if database.is_file() else None
    with opened_target(target) as opened:
        report = run_audit(opened, options, frame.check_ids(), None, advisories)
    judged, coverage = assess(frame, report)
    if fmt is ComplianceFormat.JSON:
        text = render.render_json(frame, report, judged, coverage)
    elif fmt is ComplianceFormat.HTML:
        text = render.render_html(frame, report, judged, coverage)
    else:
        color, width = use_color(output, True)
        text = render.render_table(frame, report, judged, coverage, color=color, width=width)
    write_output(text, output)
    if coverage["not-met"]:
        raise typer.Exit(1)


@app.command("checks")
def list_checks(
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """List the available checks with their metadata."""
    import json

    from imagevet.checks.metadata import builtin_metadata
    from imagevet.checks.registry import CHECKS
    from imagevet.report.json_report import remediation_dict

    metadata = builtin_metadata()
    if fmt is ListFormat.JSON:
        document = {
            "schema": "imagevet/checks/v1",
            "checks": [
                {
                    "id": meta.id,
                    "title": meta.title,
                    "severity": meta.severity.value,
                    "rationale": meta.rationale,
                    "remediation": {
                        family: [remediation_dict(step) for step in steps]
                        for family, steps in meta.remediation.items()
                    },
                    "references": list(meta.references),
                }
                for meta in (metadata[c] for c in CHECKS)
            ],
        }
        write_output(json.dumps(document, indent=2) + "\n", None)
        return
    lines = [f"{'id':<28} {'severity':<9} title"]
    lines += [f"{m.id:<28} {m.severity.value:<9} {m.title}" for m in (metadata[c] for c in CHECKS)]
    write_output("\n".join(lines) + "\n", None)


class PackagesFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


@app.command()
def packages(
    target: Annotated[str, typer.Argument(help="Image root directory; '/' lists this host's packages.")],
    fmt: Annotated[
        PackagesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PackagesFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
    push: PushOption = None,
    token: TokenOption = None,
    image_id: Annotated[str | None, typer.Option("--image-id", help="With --push: the image id.")] = None,
    cloud: Annotated[str | None, typer.Option("--cloud", help="With --push: the image's cloud.")] = None,
) -> None:
    """List installed packages (dpkg, rpm, apk) and emit SBOMs."""
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.report import packages as render
    from imagevet.target import opened_target

    with opened_target(target) as opened:
        os_release = gather_os_release(opened)
        os_known = os_release if isinstance(os_release, OsRelease) else None
        if os_known is None:
            notice(f"OS release unknown: {os_release}")
        inventory = collect_inventory(opened, os_known)
    if not inventory.databases:
        notice("no package database (dpkg, rpm or apk) found in the target")
    report = render.PackagesReport(opened.info, os_known, inventory, dt.datetime.now(dt.UTC))
    if fmt is PackagesFormat.JSON:
        text = render.render_json(report)
    elif fmt is PackagesFormat.CYCLONEDX:
        text = render.render_cyclonedx(report)
    elif fmt is PackagesFormat.SPDX:
        text = render.render_spdx(report)
    else:
        color, width = use_color(output, True)
        text = render.render_table(report, color=color, width=width)
    write_output(text, output)
    if push is not None:
        push_if_asked(push, token, json.loads(render.render_json(report)), cloud, image_id)


class VulnFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


class VulnFailOn(StrEnum):
    UNKNOWN = "unknown"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NEVER = "never"


@app.command()
def vuln(
    target: Annotated[str, typer.Argument(help="Image root directory; '/' scans this host.")],
    fmt: Annotated[VulnFormat, typer.Option("--format", "-f", help="Output format.")] = VulnFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="Only these severities (comma-separated: critical,high,...)."),
    ] = None,
    ignore_unfixed: Annotated[
        bool, typer.Option("--ignore-unfixed", help="Leave out vulnerabilities without a fixed version.")
    ] = False,
    fail_on: Annotated[
        VulnFailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = VulnFailOn.HIGH,
    waivers: Annotated[
        Path | None, typer.Option("--waivers", help="YAML file of accepted vulnerabilities.")
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date for waiver expiry (YYYY-MM-DD).")] = None,
    push: PushOption = None,
    token: TokenOption = None,
    image_id: Annotated[str | None, typer.Option("--image-id", help="With --push: the image id.")] = None,
    cloud: Annotated[str | None, typer.Option("--cloud", help="With --push: the image's cloud.")] = None,
) -> None:
    """Match installed packages against the offline advisory database."""
    from imagevet.facts import Facts
    from imagevet.report import vuln as render
    from imagevet.target import opened_target
    from imagevet.vuln import db as advisory_db
    from imagevet.vuln.matcher import SEVERITY_ORDER
    from imagevet.waivers import parse_vuln_waivers

    today = parse_date(as_of)
    wanted = None
    if severity:
        wanted = {s.strip().lower() for s in severity.split(",") if s.strip()}
        unknown = wanted - set(SEVERITY_ORDER)
        if unknown:
            raise ImagevetError(
                f"unknown severity {', '.join(sorted(unknown))} (choose from: {', '.join(SEVERITY_ORDER)})"
            )
    waiver_set = None
    if waivers is not None:
        text = read_user_file(waivers, "waiver file")
        waiver_set = parse_vuln_waivers(text, today)
    database = db_path(db)
    db_status = advisory_db.status(database)
    with opened_target(target) as opened:
        facts = Facts(opened, open_advisories(database))
        found = facts.vulnerabilities
        os_release = facts.os_release
    if found is None or isinstance(found, Unknown):
        raise ImagevetError(f"cannot match vulnerabilities: {found}")
    report = render.build_report(
        opened.info, os_release, found, db_status, waiver_set, wanted, ignore_unfixed
    )
    for message in report.notices:
        notice(message)
    if fmt is VulnFormat.JSON:
        text_out = render.render_json(report)
    elif fmt is VulnFormat.SARIF:
        text_out = render.render_sarif(report)
    elif fmt is VulnFormat.HTML:
        from imagevet.web.render import vuln_html

        text_out = vuln_html(json.loads(render.render_json(report)))
    else:
        color, width = use_color(output, True)
        text_out = render.render_table(report, color=color, width=width)
    write_output(text_out, output)
    if push is not None:
        push_if_asked(push, token, json.loads(render.render_json(report)), cloud, image_id)
    if fail_on is not VulnFailOn.NEVER:
        threshold = SEVERITY_ORDER.index(fail_on.value)
        if any(SEVERITY_ORDER.index(f.severity) >= threshold for f in report.active_findings()):
            raise typer.Exit(1)


db_app = typer.Typer(help="The offline advisory database: import, update, status.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _import_progress() -> tuple[Any, Callable[[int], None] | None]:
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress

    progress = Progress(transient=True)
    task = progress.add_task("importing advisories", total=None)

    def step(records: int) -> None:
        progress.update(task, completed=records, description=f"importing advisories ({records})")

    return progress, step


@db_app.command("import")
def db_import(
    paths: Annotated[
        list[Path], typer.Argument(help="OSV JSON files, directories of them, or all.zip archives.")
    ],
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
) -> None:
    """Add OSV records to the advisory database (atomically)."""
    from imagevet.vuln.importer import ImportStats, import_into, iter_inputs

    database = db_path(db)
    stats = ImportStats()
    progress, step = _import_progress()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = ", ".join(str(p) for p in paths)
    if progress is not None:
        with progress:
            result = import_into(database, iter_inputs(paths, stats), source, now, step)
    else:
        result = import_into(database, iter_inputs(paths, stats), source, now)
    for warning in stats.warnings + result.warnings:
        notice(f"skipped {warning}")
    skipped = stats.skipped + result.skipped
    if result.records == 0 and skipped:
        raise ImagevetError(f"nothing imported: all {skipped} input record(s) were malformed (see above)")
    notice(
        f"imported {result.records} advisories into {database}" + (f"; skipped {skipped}" if skipped else "")
    )


@db_app.command("update")
def db_update(
    ecosystem: Annotated[
        list[str] | None, typer.Option("--ecosystem", "-e", help="OSV ecosystem to download (repeatable).")
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OSV archive base URL (default: $IMAGEVET_OSV_URL or OSV's)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds per network operation.")
    ] = 60.0,
    rescan: Annotated[
        str | None, typer.Option("--rescan", help="Then ask this imagevet service to rescan (POST /rescans).")
    ] = None,
    token: TokenOption = None,
) -> None:
    """Download OSV archives, verify them, and swap the database atomically."""
    from imagevet.vuln.download import DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, update

    database = db_path(db)
    url = base_url or os.environ.get("IMAGEVET_OSV_URL") or DEFAULT_BASE_URL
    ecosystems = tuple(ecosystem) if ecosystem else DEFAULT_ECOSYSTEMS
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if sys.stderr.isatty():
        from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

        with Progress(
            *Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(), transient=True
        ) as progress:
            tasks: dict[str, Any] = {}

            def step(name: str, received: int, expected: int | None) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(f"downloading {name}", total=expected)
                progress.update(tasks[name], completed=received)

            result = update(database, ecosystems, url, now, timeout, step)
    else:
        result = update(database, ecosystems, url, now, timeout)
    for warning in result.warnings:
        notice(f"skipped {warning}")
    notice(f"updated {database}: {result.records} advisories from {len(ecosystems)} ecosystem archive(s)")
    if rescan is not None:
        from imagevet.service.client import request_rescan

        if not token:
            raise ImagevetError("--rescan needs --token (or IMAGEVET_TOKEN)")
        notice(f"rescan requested on {rescan}: job {request_rescan(rescan, token)}")


@db_app.command("status")
def db_status_command(
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    stale_days: Annotated[int, typer.Option("--stale-days", min=1, help="Warn when older than this.")] = 7,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """Show per-ecosystem record counts and the age of the advisory database."""
    import json

    from imagevet.vuln import db as advisory_db

    status = advisory_db.status(db_path(db))
    age_days = None
    if status.updated:
        try:
            updated = dt.datetime.strptime(status.updated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            age_days = (dt.datetime.now(dt.UTC) - updated).days
        except ValueError:
            age_days = None
    if fmt is ListFormat.JSON:
        document = {
            "schema": "imagevet/db-status/v1",
            "path": status.path,
            "updated": status.updated,
            "age_days": age_days,
            "records": status.records,
            "size_bytes": status.size_bytes,
            "ecosystems": [e.__dict__ for e in status.ecosystems],
        }
        write_output(json.dumps(document, indent=2) + "\n", None)
    else:
        lines = [
            f"{status.path}: {status.records} advisories, {status.size_bytes / 1e6:.1f} MB, updated "
            f"{status.updated or 'never'}" + (f" ({age_days} days ago)" if age_days is not None else "")
        ]
        lines += [
            f"  {e.ecosystem:<14} {e.records:>8} records  imported {e.imported}  newest {e.newest}  "
            f"from {e.source}"
            for e in status.ecosystems
        ]
        write_output("\n".join(lines) + "\n", None)
    if age_days is not None and age_days > stale_days:
        notice(f"warning: the advisory database is {age_days} days old; run 'imagevet db update'")


class HardenEmit(StrEnum):
    BASH = "bash"
    CLOUD_INIT = "cloud-init"
    ANSIBLE = "ansible"


@app.command()
def harden(
    target: Annotated[str, typer.Argument(help="Image (as for audit) whose failing checks to fix.")],
    emit: Annotated[
        HardenEmit, typer.Option("--emit", help="bash, cloud-init or ansible.")
    ] = HardenEmit.BASH,
    checks: Annotated[str | None, typer.Option("--checks", help="Only fix these check ids.")] = None,
    profile: Annotated[str, typer.Option("--profile", help="Which checks to audit (as for audit).")] = "all",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date lifecycles are judged by.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Generate an idempotent remediation (bash, #cloud-config, Ansible) for the failing checks."""
    from imagevet.audit import run_audit, select_checks
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.harden.ansible import render_playbook
    from imagevet.harden.bash import render_bash
    from imagevet.harden.cloudinit import render_cloud_config
    from imagevet.harden.plan import plan_for
    from imagevet.target import opened_target

    requested = [c.strip() for c in checks.split(",") if c.strip()] if checks else None
    check_ids = select_checks(requested, profile)
    options = CheckOptions(as_of=parse_date(as_of), catalog=load_catalog(data_dir()))
    with opened_target(target) as opened:
        report = run_audit(opened, options, check_ids)
    plan = plan_for(report)
    renderers = {HardenEmit.BASH: render_bash, HardenEmit.CLOUD_INIT: render_cloud_config,
                 HardenEmit.ANSIBLE: render_playbook}  # fmt: skip
    write_output(renderers[emit](plan), output)
    if output is not None and emit is HardenEmit.BASH:
        output.chmod(0o755)
    manual = sum(len(f.manual) for f in plan.fixes)
    notice(f"{len(plan.fixes)} failing check(s) addressed; {manual} manual step(s)")


@app.command()
def attest(
    what: Annotated[
        list[str] | None,
        typer.Argument(help="TARGET to attest, or 'keygen', or 'verify FILE'.", show_default=False),
    ] = None,
    image_id: Annotated[
        str | None, typer.Option("--image-id", help="The image id the statement names.")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Private key (attest) or public key (verify), PEM.")
    ] = None,
    digest: Annotated[
        str | None, typer.Option("--digest", help="The image digest (sha256:…) if known.")
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="Checks the embedded audit runs.")] = "checklist",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date lifecycles are judged by.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the envelope to FILE.")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", help="keygen: where to write the pair.")] = Path(
        "."
    ),
    name: Annotated[str, typer.Option("--name", help="keygen: file name stem.")] = "imagevet",
    audit_file: Annotated[
        Path | None,
        typer.Option("--audit", help="Attest this imagevet/audit/v1 report (with --sbom), not TARGET."),
    ] = None,
    sbom_file: Annotated[
        Path | None, typer.Option("--sbom", help="The SBOM (JSON) to attest with --audit.")
    ] = None,
) -> None:
    """Signed attestations: `attest TARGET --image-id ID --key KEY`, `attest keygen`, `attest verify FILE`."""
    from imagevet.attest import keys

    what = what or []
    if audit_file is not None or sbom_file is not None:
        if (
            what
            or audit_file is None
            or sbom_file is None
            or image_id is None
            or key is None
            or digest is None
        ):
            raise ImagevetError(
                "attest --audit FILE --sbom FILE needs --image-id, --digest and --key, and no TARGET"
            )
        _attest_reports(image_id, key, digest, audit_file, sbom_file, output)
        return
    if what == ["keygen"]:
        private, public = output_dir / f"{name}.key", output_dir / f"{name}.pub"
        identifier = keys.generate(private, public)
        sys.stdout.write(f"wrote {private} (private, 0600) and {public}; keyid {identifier}\n")
        return
    if len(what) == 2 and what[0] == "verify":
        _attest_verify(Path(what[1]), key, image_id)
        return
    if len(what) != 1 or what[0] in ("keygen", "verify"):
        raise ImagevetError(
            "usage: attest TARGET --image-id ID --key KEY | attest keygen | attest verify FILE --key PUB"
        )
    if image_id is None or key is None:
        raise ImagevetError("attest TARGET needs --image-id and --key")
    _attest_create(what[0], image_id, key, digest, profile, as_of, output)


def _attest_create(
    spec: str,
    image_id: str,
    key: Path,
    digest: str | None,
    profile: str,
    as_of: str | None,
    output: Path | None,
) -> None:
    from imagevet.attest.digest import image_digest
    from imagevet.attest.keys import load_private
    from imagevet.attest.statement import build_statement, sign
    from imagevet.audit import run_audit, select_checks
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.report import packages as sbom
    from imagevet.report.json_report import report_dict
    from imagevet.target import opened_target

    private = load_private(key)
    image = image_digest(spec, digest)
    options = CheckOptions(as_of=parse_date(as_of), catalog=load_catalog(data_dir()))
    with opened_target(spec) as opened:
        report = run_audit(opened, options, select_checks(None, profile))
        os_release = gather_os_release(opened)
        known = os_release if isinstance(os_release, OsRelease) else None
        inventory = collect_inventory(opened, known)
    packages = sbom.PackagesReport(opened.info, known, inventory, dt.datetime.now(dt.UTC))
    statement = build_statement(
        image_id,
        image,
        report_dict(report),
        json.loads(sbom.render_spdx(packages)),
        f"imagevet {__version__}",
    )
    write_output(sign(statement, private).to_json(), output)
    notice(f"attested {image_id} ({image}): {report.summary()['fail']} failing check(s) recorded")


def _attest_reports(
    image_id: str, key: Path, digest: str, audit: Path, sbom: Path, output: Path | None
) -> None:
    """Sign reports made elsewhere (inside a Packer build): the audit must be imagevet's own document."""
    from imagevet.attest.digest import image_digest
    from imagevet.attest.keys import load_private
    from imagevet.attest.statement import build_statement, sign

    private = load_private(key)
    documents = []
    for path, what in ((audit, "audit report"), (sbom, "SBOM")):
        try:
            documents.append(json.loads(read_user_file(path, what)))
        except json.JSONDecodeError as exc:
            raise ImagevetError(f"{path}: the {what} is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(documents[0], dict) or documents[0].get("schema") != "imagevet/audit/v1":
        raise ImagevetError(f"{audit}: not an imagevet/audit/v1 report")
    statement = build_statement(
        image_id, image_digest("", digest), documents[0], documents[1], f"imagevet {__version__}"
    )
    write_output(sign(statement, private).to_json(), output)
    notice(f"attested {image_id} ({digest}) from {audit} and {sbom}")


def _attest_verify(path: Path, key: Path | None, image_id: str | None) -> None:
    from imagevet.attest.keys import load_public
    from imagevet.attest.statement import verify

    if key is None:
        raise ImagevetError("attest verify needs --key PUBLIC_KEY")
    public = load_public(key)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImagevetError(f"cannot read attestation {str(path)!r}: {exc.strerror}") from exc
    # Undecodable bytes are kept visible (and so fail the verification), not an input error.
    result = verify(raw.decode("utf-8", errors="replace"), public, image_id)
    subject = ""
    if result.statement:
        subjects = result.statement.get("subject") or [{}]
        subject = f" {subjects[0].get('name')} {subjects[0].get('digest')}"
    sys.stdout.write(
        ("verified" if result.ok else "NOT verified") + f"{subject}: {'; '.join(result.reasons)}\n"
    )
    if not result.ok:
        raise typer.Exit(1)


pipeline_app = typer.Typer(help="Layered golden-image pipelines (Packer).", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command("init")
def pipeline_init(
    cloud: Annotated[str, typer.Option("--cloud", help="aws, azure, alibaba, tencent or gcp.")],
    base: Annotated[
        str, typer.Option("--base", help="Release of the official base image (e.g. ubuntu-22.04).")
    ],
    layers: Annotated[
        str, typer.Option("--layers", help="Comma-separated: base, middleware:NAME, app.")
    ] = "base,middleware:jdk21,app",
    output: Annotated[Path, typer.Option("--output", "-o", help="Project directory to create.")] = Path(
        "golden-images"
    ),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge the base's lifecycle by (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Write a Packer project: a template per layer, hardening and an audit gate in each build, a CI file."""
    from imagevet.catalog.store import load_catalog
    from imagevet.pipeline.render import parse_layers, python_warning, render_project

    files = render_project(cloud, base, parse_layers(layers), load_catalog(data_dir()), parse_date(as_of))
    if output.exists() and any(output.iterdir()):
        raise ImagevetError(f"{output} exists and is not empty; not overwriting")
    for relative, content in files.items():
        path = output / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            if path.suffix == ".sh":
                path.chmod(0o755)
        except OSError as exc:
            raise ImagevetError(f"cannot write {path}: {exc.strerror}") from exc
    sys.stdout.write(f"wrote {len(files)} files to {output}\n")
    warning = python_warning(base)
    if warning:
        notice(warning)


def tls_options(cert: Path | None, key: Path | None) -> tuple[str | None, str | None]:
    """uvicorn's TLS settings, checked first: both files or neither, and they must load as a pair, so a
    wrong file is one line now rather than a failure at the first connection."""
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ImagevetError("--tls-cert and --tls-key go together")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:
        raise ImagevetError(f"{exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise ImagevetError(f"--tls-cert/--tls-key do not load as a certificate and its key: {exc}") from None
    return str(cert), str(key)


def check_listen(host: str, port: int) -> None:
    """Bind once as uvicorn will (SO_REUSEADDR), so an address in use or not ours is one line and exit 2
    before anything starts, rather than uvicorn's own message and exit 3."""
    import socket

    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ImagevetError(f"--host {host}: {exc.strerror}") from None
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise ImagevetError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'inventory.sqlite3'}"


def inventory_sessions(database_url: str | None) -> tuple[str, Any]:
    """The inventory database (``--database-url``, else SQLite in the data dir), migrated to the current
    schema, and a session factory for it. Every service command starts here."""
    from imagevet.service.db import make_engine, sessions
    from imagevet.service.migrate import upgrade

    url = database_url or default_database_url()
    data_dir().mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return url, sessions(make_engine(url))


@app.command()
def serve(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Run jobs on `imagevet worker`s (PostgreSQL) instead of in-process."),
    ] = False,
    ssh_identity: SshIdentityOption = None,
    ssh_known_hosts: SshKnownHostsOption = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this PEM certificate (chain).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's PEM private key.")
    ] = None,
) -> None:
    """Run the inventory service (API under /api/v1, OpenAPI at /docs); migrates the database first."""
    try:
        import uvicorn

        from imagevet.service.app import create_app
    except ImportError as exc:
        raise ImagevetError("the service needs its extra: pip install 'imagevet[serve]'") from exc
    ssh = service_ssh(ssh_identity, ssh_known_hosts)
    certfile, keyfile = tls_options(tls_cert, tls_key)
    check_listen(host, port)
    url, make = inventory_sessions(database_url)
    database = db_path(db)

    def lookup() -> Any:
        return open_advisories(database) if database.is_file() else None

    from imagevet.catalog.store import load_catalog

    catalog = load_catalog(data_dir())

    def run(service: Any) -> None:
        uvicorn.run(
            service, host=host, port=port, log_level="warning", ssl_certfile=certfile, ssl_keyfile=keyfile
        )

    if not queue:
        run(create_app(make, lookup, catalog, ssh=ssh))
        return
    from imagevet.service.queue import deferrer, ensure_schema, make_queue

    try:
        jobs = make_queue(url)
    except ValueError as exc:
        raise ImagevetError(str(exc)) from exc
    ensure_schema(url, jobs)
    with jobs.open():
        run(create_app(make, lookup, catalog, defer=deferrer(jobs)))


@app.command()
def worker(
    database_url: Annotated[str, typer.Option("--database-url", help="The service's PostgreSQL URL.")],
    db: Annotated[
        Path | None, typer.Option("--db", help="Advisory database (default: $IMAGEVET_DB).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Jobs at once.")] = 1,
    ssh_identity: SshIdentityOption = None,
    ssh_known_hosts: SshKnownHostsOption = None,
) -> None:
    """Run queued jobs (rescans, audits) for `imagevet serve --queue`; start as many as the fleet needs."""
    try:
        from imagevet.catalog.store import load_catalog
        from imagevet.service.jobs import JobContext, run_job
        from imagevet.service.queue import HEARTBEAT, STALLED_AFTER, ensure_schema, make_queue
    except ImportError as exc:
        raise ImagevetError("workers need the service extra: pip install 'imagevet[serve]'") from exc
    ssh = service_ssh(ssh_identity, ssh_known_hosts)
    database = db_path(db)
    if not database.is_file():
        raise ImagevetError(f"no advisory database at {database} (imagevet db update, or --db)")
    _, make = inventory_sessions(database_url)
    advisories = open_advisories(database)
    context = JobContext(lambda: advisories, load_catalog(data_dir()), ssh=ssh)
    try:
        jobs = make_queue(database_url, runner=lambda job_id: run_job(make, job_id, context))
    except ValueError as exc:
        raise ImagevetError(str(exc)) from exc
    ensure_schema(database_url, jobs)
    with jobs.open():
        jobs.run_worker(
            concurrency=concurrency, update_heartbeat_interval=HEARTBEAT, stalled_worker_timeout=STALLED_AFTER
        )


token_app = typer.Typer(help="API tokens for the inventory service.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    scope: Annotated[str, typer.Option("--scope", help="read, write or admin.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    database_url: Annotated[str | None, typer.Option("--database-url", help="As for serve.")] = None,
) -> None:
    """Create a token; it is printed once and stored only as a digest."""
    from imagevet.service.auth import RANK, digest, new_token
    from imagevet.service.db import ApiToken

    if scope not in RANK:
        raise ImagevetError(f"--scope {scope!r} (choose from: {', '.join(RANK)})")
    _, make = inventory_sessions(database_url)
    token = new_token()
    with make() as session:
        session.add(ApiToken(name=name, scope=scope, digest=digest(token)))
        session.commit()
    sys.stdout.write(token + "\n")


@token_app.command("list")
def token_list(
    database_url: Annotated[str | None, typer.Option("--database-url", help="As for serve.")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """List tokens: id, name, scope, creation time (never the token itself, which is not stored)."""
    import json

    from sqlalchemy import select

    from imagevet.service.db import ApiToken

    _, make = inventory_sessions(database_url)
    with make() as session:
        rows = [
            {"id": t.id, "name": t.name, "scope": t.scope, "created_at": t.created_at.isoformat()}
            for t in session.scalars(select(ApiToken).order_by(ApiToken.id))
        ]
    if fmt is ListFormat.JSON:
        write_output(json.dumps({"schema": "imagevet/tokens/v1", "tokens": rows}, indent=2) + "\n", None)
        return
    lines = [f"{'id':>4}  {'scope':<6} {'created':<25} name"]
    lines += [f"{r['id']:>4}  {r['scope']:<6} {r['created_at']:<25} {r['name']}" for r in rows]
    write_output("\n".join(lines) + "\n", None)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The id from `imagevet token list`.", metavar="ID")],
    database_url: Annotated[str | None, typer.Option("--database-url", help="As for serve.")] = None,
) -> None:
    """Revoke a token: it stops working at once, on every server process using the database."""
    from imagevet.service.db import ApiToken

    _, make = inventory_sessions(database_url)
    with make() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise ImagevetError(f"no token with id {token_id} (imagevet token list)")
        session.delete(token)
        session.commit()
    notice(f"revoked token {token_id} ({token.scope}{', ' + token.name if token.name else ''})")


@app.command()
def push(
    report: Annotated[Path, typer.Argument(help="A JSON document from audit, packages or vuln.")],
    server: Annotated[str, typer.Option("--server", help="Service URL, e.g. http://127.0.0.1:8000.")],
    token: Annotated[str, typer.Option("--token", envvar="IMAGEVET_TOKEN", help="A write token.")],
    image_id: Annotated[str, typer.Option("--image-id", help="The cloud image id the report is about.")],
    cloud: Annotated[
        str, typer.Option("--cloud", help="aws, azure, alibaba, tencent, gcp or onprem.")
    ] = "aws",
    register: Annotated[bool, typer.Option("--register", help="Register the image if it is new.")] = False,
) -> None:
    """Send a report to the inventory service."""
    from imagevet.service.client import push as send

    text = read_user_file(report, "report")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImagevetError(f"{report}: not JSON ({exc.msg}, line {exc.lineno})") from exc
    result = send(server, token, document, cloud, image_id, register)
    sys.stdout.write(f"pushed {result['schema']} as report {result['id']} of image {result['image']}\n")


class VerifyFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def now_for(as_of: str | None) -> dt.datetime:
    """The moment ages and deprecation times are judged at: now, or midnight UTC of --as-of."""
    if as_of is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(parse_date(as_of), dt.time(), tzinfo=dt.UTC)


@app.command()
def verify(
    image_id: Annotated[
        str, typer.Argument(help="Image id in the cloud's native form (ami-…, URN, self-link …).")
    ],
    cloud: Annotated[str, typer.Option("--cloud", help="aws, azure, alibaba, tencent or gcp.")],
    region: Annotated[str | None, typer.Option("--region", help="Region (default: the SDK's).")] = None,
    fmt: Annotated[VerifyFormat, typer.Option("--format", "-f", help="Output format.")] = VerifyFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge ages at this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Prove an image id comes from an official publisher (exit 1: unofficial or deprecated; 2: unknown)."""
    from imagevet.catalog.store import load_catalog
    from imagevet.provenance.model import UNKNOWN
    from imagevet.provenance.verify import verify_image
    from imagevet.report import verify as render

    now = now_for(as_of)
    result = verify_image(cloud, image_id, load_catalog(data_dir()), now, region)
    if fmt is VerifyFormat.JSON:
        text = render.render_json(result)
    else:
        color, width = use_color(output, True)
        text = render.render_table(result, color=color, width=width)
    write_output(text, output)
    if result.verdict == UNKNOWN:
        notice(f"cannot verify: {'; '.join(result.reasons)}")
        raise typer.Exit(2)
    if result.gate_fails():
        raise typer.Exit(1)


class LifecycleFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class RecommendFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@app.command()
def lifecycle(
    query: Annotated[
        str | None, typer.Argument(help="Filter: a distro (ubuntu), release (rhel-9) or prefix.")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to judge by (YYYY-MM-DD).")] = None,
    fmt: Annotated[
        LifecycleFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LifecycleFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Show releases with their support status and days left."""
    from imagevet.catalog.store import load_catalog
    from imagevet.report import lifecycle as render

    today = parse_date(as_of)
    catalog = load_catalog(data_dir())
    releases = list(catalog.releases)
    if query:
        wanted = query.lower()
        releases = [
            r
            for r in releases
            if r.release.lower() == wanted
            or r.release.lower().startswith(wanted + "-")
            or r.release.lower().startswith(wanted)
            or r.distro == wanted
        ]
        if not releases:
            raise ImagevetError(f"no release matches {query!r} (see 'imagevet lifecycle')")
    if fmt is LifecycleFormat.JSON:
        write_output(render.render_json(releases, today), output)
    else:
        color, width = use_color(output, True)
        write_output(render.render_table(releases, today, color=color, width=width), output)


@app.command()
def recommend(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Workload: web-api, java-microservice, ...")
    ],
    cloud: Annotated[
        str | None, typer.Option("--cloud", "-c", help="aws, azure, alibaba, tencent or gcp.")
    ] = None,
    lifecycle_years: Annotated[
        float, typer.Option("--lifecycle-years", min=0, help="Years of security support needed.")
    ] = 3.0,
    compliance: Annotated[
        str | None,
        typer.Option("--compliance", help="Comma-separated: fips, pci-dss, mlps-l3, gdpr, hipaa, cis-l1."),
    ] = None,
    arch: Annotated[str, typer.Option("--arch", help="x86_64 or arm64.")] = "x86_64",
    gpu: Annotated[bool, typer.Option("--gpu", help="The workload needs NVIDIA GPUs.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to judge by (YYYY-MM-DD).")] = None,
    fmt: Annotated[
        RecommendFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RecommendFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Rank official LTS images for a workload on a cloud, and say why."""
    from imagevet.catalog.store import load_catalog
    from imagevet.recommend.engine import Query
    from imagevet.recommend.engine import recommend as rank
    from imagevet.report import recommend as render

    query = Query(
        scenario=scenario,
        cloud=cloud,
        lifecycle_years=lifecycle_years,
        compliance=tuple(c.strip() for c in (compliance or "").split(",") if c.strip()),
        arch={"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch),
        gpu=gpu,
        as_of=parse_date(as_of),
    )
    result = rank(load_catalog(data_dir()), query)
    if fmt is RecommendFormat.JSON:
        text = render.render_json(result)
    elif fmt is RecommendFormat.MARKDOWN:
        text = render.render_markdown(result)
    else:
        color, width = use_color(output, True)
        text = render.render_table(result, color=color, width=width)
    write_output(text, output)
    if not result.candidates:
        notice("no release passes the gates for this query")
        raise typer.Exit(1)


catalog_app = typer.Typer(
    help="The release catalog: show its sources, refresh lifecycle dates.", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("update")
def catalog_update(
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="endoflife.date API base (default: $IMAGEVET_EOL_URL or public)."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.")] = 20.0,
) -> None:
    """Refresh lifecycle dates from endoflife.date into the user override file."""
    from imagevet.catalog.loader import bundled_catalog
    from imagevet.catalog.store import override_path
    from imagevet.catalog.update import DEFAULT_BASE_URL, PRODUCTS, download_overrides, write_overrides

    url = base_url or os.environ.get("IMAGEVET_EOL_URL") or DEFAULT_BASE_URL
    known = {r.release for r in bundled_catalog().releases}
    path = override_path(data_dir())
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("downloading lifecycle data", total=len(PRODUCTS))

            def step(product: str) -> None:
                progress.update(task, advance=1, description=f"downloading {product}")

            entries = download_overrides(url, known, timeout, step)
    else:
        entries = download_overrides(url, known, timeout)
    write_overrides(path, entries, url, dt.date.today())
    notice(f"updated lifecycle dates of {len(entries)} releases from {url} into {path}")


@catalog_app.command("show")
def catalog_show() -> None:
    """Print where the catalog's data comes from and how old it is."""
    from imagevet.catalog.store import BUNDLED_SNAPSHOT, load_catalog, override_path
    from imagevet.catalog.update import read_override_meta

    catalog = load_catalog(data_dir())
    lines = [
        f"releases: {len(catalog.releases)}; clouds: {', '.join(catalog.clouds)}; "
        f"scenarios: {', '.join(catalog.scenarios)}",
        f"bundled data: {BUNDLED_SNAPSHOT}",
    ]
    path = override_path(data_dir())
    if path.is_file():
        source, fetched = read_override_meta(path.read_text(encoding="utf-8"))
        lines.append(f"override: {path} (fetched {fetched or 'unknown'} from {source or 'unknown'})")
        if fetched:
            try:
                age = (dt.date.today() - dt.date.fromisoformat(fetched)).days
            except ValueError:
                age = None
            if age is not None and age > 180:
                lines.append(f"warning: the override is {age} days old; run 'imagevet catalog update'")
    else:
        lines.append(f"override: none (run 'imagevet catalog update' to write {path})")
    sources = sorted({source for release in catalog.releases for source in release.sources})
    lines.append("sources:")
    lines += [f"  - {source}" for source in sources]
    write_output("\n".join(lines) + "\n", None)


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"imagevet: error: {message}\n")
    sys.exit(2)


def _parser_error(exc: BaseException) -> str | None:
    """The one-line message of a command-line parsing error raised by Typer's (vendored) click."""
    format_message = getattr(exc, "format_message", None)
    if not callable(format_message) or not hasattr(exc, "exit_code"):
        return None
    lines = str(format_message()).strip().splitlines()
    return lines[0] if lines else "usage error"


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage and input errors become one line on stderr and exit code 2."""
    # Libraries (cloud SDKs, urllib3) log warnings; without a handler Python prints them to stderr, which
    # would bury imagevet's one-line messages. imagevet itself reports through its return values.
    logging.getLogger().addHandler(logging.NullHandler())
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="imagevet", standalone_mode=False)
    except ImagevetError as exc:
        fail(str(exc))
    except BrokenPipeError:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("imagevet: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            sys.stderr.write(ctx.get_help() + "\n" if ctx is not None else "")
            sys.exit(2)
        message = _parser_error(exc)
        if message is None:
            raise
        fail(message)
    sys.exit(code if isinstance(code, int) else 0)
