"""The advisory database commands: db import, db update, db status."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

from imagevet.cli.common import (
    MAX_DB_AGE_DAYS,
    DbOption,
    ListFormat,
    app,
    db_path,
    notice,
    progress,
    write_output,
)
from imagevet.cli.declare import Argument, Option, Typer
from imagevet.errors import ImagevetError

db_app = Typer(help="The offline advisory database: import, update, status.", no_args_is_help=True)
app.add_typer(db_app, name="db")


SKIPPED_SHOWN = 100


def report_skipped(warnings: list[str]) -> None:
    """Name every skipped record (where it was, and why) up to a hundred, then count the rest."""
    for warning in warnings[:SKIPPED_SHOWN]:
        notice(f"skipped {warning}")
    if len(warnings) > SKIPPED_SHOWN:
        notice(f"skipped {len(warnings) - SKIPPED_SHOWN} more malformed record(s) not listed")


@db_app.command("import")
def db_import(
    paths: Annotated[list[Path], Argument(help="OSV JSON files, directories of them, or all.zip archives.")],
    db: Annotated[Path | None, Option("--db", help="Advisory database (default: $IMAGEVET_DB).")] = None,
) -> None:
    """Add OSV records to the advisory database (atomically)."""
    from imagevet.vuln.importer import ImportStats, import_into, iter_inputs

    database = db_path(db)
    stats = ImportStats()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = ", ".join(str(p) for p in paths)
    whole = all(p.suffix == ".zip" for p in paths)  # OSV's all.zip per ecosystem: complete coverage
    inputs = iter_inputs(paths, stats)
    try:
        with progress("importing advisories") as line:

            def step(records: int) -> None:
                line.at(records, f"importing advisories ({records})")

            result = import_into(database, inputs, source, now, step, whole_archive=whole, stats=stats)
    finally:
        report_skipped(stats.warnings)
    for note in result.notes:
        notice(note)
    skipped = result.skipped
    notice(
        f"imported {result.records} advisories into {database}" + (f"; skipped {skipped}" if skipped else "")
    )


@db_app.command("update")
def db_update(
    ecosystem: Annotated[
        list[str] | None, Option("--ecosystem", "-e", help="OSV ecosystem to download (repeatable).")
    ] = None,
    db: Annotated[Path | None, Option("--db", help="Advisory database (default: $IMAGEVET_DB).")] = None,
    base_url: Annotated[
        str | None,
        Option("--base-url", help="OSV archive base URL (default: $IMAGEVET_OSV_URL or OSV's)."),
    ] = None,
    timeout: Annotated[float, Option("--timeout", min=0.1, help="Seconds per network operation.")] = 60.0,
    rescan: Annotated[
        str | None, Option("--rescan", help="Then ask this imagevet service to rescan (POST /rescans).")
    ] = None,
    token: Annotated[
        str | None, Option("--token", envvar="IMAGEVET_TOKEN", help="Token for --rescan.")
    ] = None,
) -> None:
    """Download OSV archives, verify them, and swap the database atomically."""
    from imagevet.vuln.download import DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, update

    database = db_path(db)
    url = base_url or os.environ.get("IMAGEVET_OSV_URL") or DEFAULT_BASE_URL
    ecosystems = tuple(ecosystem) if ecosystem else DEFAULT_ECOSYSTEMS
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with progress("downloading", transfers=True) as line:
        result = update(database, ecosystems, url, now, timeout, line.transfer)
    report_skipped(result.warnings)
    for note in result.notes:
        notice(note)
    notice(f"updated {database}: {result.records} advisories from {len(ecosystems)} ecosystem archive(s)")
    if rescan is not None:
        from imagevet.service.client import request_rescan

        if not token:
            raise ImagevetError("--rescan needs --token (or IMAGEVET_TOKEN)")
        notice(f"rescan requested on {rescan}: job {request_rescan(rescan, token)}")


@db_app.command("status")
def db_status_command(
    db: DbOption = None,
    max_db_age: Annotated[
        float,
        Option(
            "--max-db-age",
            "--stale-days",
            min=0,
            help="Days after which an ecosystem's data counts as stale.",
        ),
    ] = MAX_DB_AGE_DAYS,
    fmt: Annotated[ListFormat, Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """Show what the advisory database covers: per ecosystem, records, age, source, complete or partial."""

    from imagevet.report import db_status as render
    from imagevet.vuln import db as advisory_db

    document = render.document(advisory_db.status(db_path(db)), max_db_age, dt.datetime.now(dt.UTC))
    write_output(render.render(document, render.Format(fmt.value)), None)
    rows = document["coverage"]
    stale = [str(r["ecosystem"]) for r in rows if r["stale"]]
    if stale:
        notice(f"warning: advisories older than {max_db_age:g} days: {', '.join(stale)} (imagevet db update)")
