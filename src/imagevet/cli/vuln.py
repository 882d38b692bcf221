"""Commands over packages and advisories: packages, vuln, db import|update|status."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from imagevet.cli.common import (
    ListFormat,
    PushOption,
    TokenOption,
    app,
    db_path,
    notice,
    open_advisories,
    parse_date,
    push_if_asked,
    read_user_file,
    use_color,
    write_output,
)
from imagevet.errors import ImagevetError
from imagevet.model import Unknown


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
