"""Commands over an image's packages: packages (inventory, SBOMs) and vuln (advisories)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from imagevet.cli.common import (
    MAX_DB_AGE_DAYS,
    AllowStaleOption,
    DbOption,
    MaxDbAgeOption,
    PushCloudOption,
    PushImageIdOption,
    PushOption,
    SeverityOption,
    TokenOption,
    advisories_for,
    app,
    check_push,
    notice,
    output_option,
    parse_date,
    push_if_asked,
    read_user_file,
    table_width,
    use_color,
    write_output,
)
from imagevet.cli.declare import Argument, Option
from imagevet.cli.remote import TARGET_HELP, DownloadOption, RegionOption, cli_target
from imagevet.errors import ImagevetError
from imagevet.model import Unknown
from imagevet.report.packages import Format as PackagesFormat
from imagevet.report.vuln import Format as VulnFormat


@app.command()
def packages(
    target: Annotated[str, Argument(help=TARGET_HELP)],
    fmt: Annotated[PackagesFormat, Option("--format", "-f", help="Output format.")] = PackagesFormat.TABLE,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
    push: PushOption = None,
    token: TokenOption = None,
    image_id: PushImageIdOption = None,
    cloud: PushCloudOption = None,
    region: RegionOption = None,
    download: DownloadOption = False,
) -> None:
    """List installed packages (dpkg, rpm, apk) and emit SBOMs."""
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.report import packages as render

    check_push(push, token, cloud, image_id)
    with cli_target(target, region, download) as opened:
        os_release = gather_os_release(opened)
        os_known = os_release if isinstance(os_release, OsRelease) else None
        if os_known is None:
            notice(f"OS release unknown: {os_release}")
        inventory = collect_inventory(opened, os_known)
    if not inventory.databases:
        notice("no package database (dpkg, rpm or apk) found in the target")
    report = render.PackagesReport(opened.info, os_known, inventory, dt.datetime.now(dt.UTC))
    document = render.document(report)
    color, _ = use_color(output, fmt is PackagesFormat.TABLE)
    write_output(render.render(document, fmt, color=color, width=table_width(output)), output)
    if push is not None:
        push_if_asked(push, token, document, cloud, image_id)


class VulnFailOn(StrEnum):
    UNKNOWN = "unknown"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NEVER = "never"


@app.command()
def vuln(
    target: Annotated[str, Argument(help=TARGET_HELP)],
    fmt: Annotated[VulnFormat, Option("--format", "-f", help="Output format.")] = VulnFormat.TABLE,
    output: Annotated[Path | None, output_option("Write the report to FILE")] = None,
    pretty: Annotated[
        bool, Option("--pretty", help="Indent JSON and SARIF output (default: compact).")
    ] = False,
    severity: SeverityOption = None,
    ignore_unfixed: Annotated[
        bool, Option("--ignore-unfixed", help="Leave out vulnerabilities without a fixed version.")
    ] = False,
    fail_on: Annotated[
        VulnFailOn, Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = VulnFailOn.HIGH,
    waivers: Annotated[
        Path | None, Option("--waivers", help="YAML file of accepted vulnerabilities.")
    ] = None,
    db: DbOption = None,
    max_db_age: MaxDbAgeOption = MAX_DB_AGE_DAYS,
    allow_stale_db: AllowStaleOption = False,
    as_of: Annotated[str | None, Option("--as-of", help="Date for waiver expiry (YYYY-MM-DD).")] = None,
    push: PushOption = None,
    token: TokenOption = None,
    image_id: PushImageIdOption = None,
    cloud: PushCloudOption = None,
    region: RegionOption = None,
    download: DownloadOption = False,
) -> None:
    """Match installed packages against the offline advisory database."""
    from imagevet.facts import Facts
    from imagevet.report import vuln as render
    from imagevet.report.filter import parse_severities

    check_push(push, token, cloud, image_id)
    today = parse_date(as_of)
    shown = None if severity is None else parse_severities(severity)
    waiver_set = None
    if waivers is not None:  # imported only then: 1.4 ms of every scan otherwise
        from imagevet.waivers import LIMITS as WAIVER_LIMITS
        from imagevet.waivers import parse_vuln_waivers

        text = read_user_file(waivers, "waiver file", max_bytes=4 * WAIVER_LIMITS.max_chars)
        waiver_set = parse_vuln_waivers(text, today, source=str(waivers))
    advisories = advisories_for(db, max_db_age, allow_stale_db)
    if advisories.lookup is None:
        raise ImagevetError(advisories.missing)
    with cli_target(target, region, download) as opened:
        facts = Facts(opened, advisories)
        found = facts.vulnerabilities
        os_release = facts.os_release
    if isinstance(found, Unknown):
        raise ImagevetError(f"cannot match vulnerabilities: {found}")
    threshold = None if fail_on is VulnFailOn.NEVER else fail_on.value
    report = render.build_report(
        opened.info, os_release, found, advisories.lookup.status, waiver_set, ignore_unfixed, threshold
    )
    for message in report.notices:
        notice(message)
    document = render.document(report, shown)
    color, _ = use_color(output, fmt is VulnFormat.TABLE)
    rendered = render.render_output(document, fmt, color=color, width=table_width(output), pretty=pretty)
    write_output(rendered, output)
    if push is not None:  # the inventory keeps every finding, whatever --severity showed
        push_if_asked(push, token, document if shown is None else render.document(report), cloud, image_id)
    if report.gate_failures():
        raise SystemExit(1)
