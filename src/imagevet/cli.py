"""Command line: the only place that prints, exits, reads the clock and the environment."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from imagevet import __version__
from imagevet.errors import ImagevetError
from imagevet.model import Severity
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


def notice(message: str) -> None:
    sys.stderr.write(f"imagevet: {message}\n")


def data_dir() -> Path:
    from imagevet.catalog.store import data_dir_from_env

    return data_dir_from_env(dict(os.environ), Path.home())


def use_color(output: Path | None, table: bool) -> tuple[bool, int]:
    """Colour only for a table on a terminal, and never with NO_COLOR; width follows the terminal."""
    color = output is None and table and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = max(80, min(os.get_terminal_size().columns, 160)) if color else 120
    return color, width


@app.command()
def audit(
    target: Annotated[str, typer.Argument(help="Image root directory to audit; '/' audits this host.")],
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
) -> None:
    """Audit an image root filesystem against the pre-deployment checklist."""
    from imagevet.audit import run_audit, select_checks
    from imagevet.checks.base import CheckOptions
    from imagevet.checks.registry import CHECKS
    from imagevet.report import render_audit
    from imagevet.target import open_target
    from imagevet.waivers import WaiverSet, parse_waivers

    today = parse_date(as_of)
    check_ids = select_checks([c.strip() for c in checks.split(",") if c.strip()] if checks else None)
    waiver_set: WaiverSet | None = None
    if waivers is not None:
        try:
            text = waivers.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImagevetError(f"cannot read waiver file {str(waivers)!r}: {exc}") from exc
        waiver_set = parse_waivers(text, set(CHECKS), today)
    from imagevet.catalog.store import load_catalog

    opened = open_target(target)
    options = CheckOptions(as_of=today, lifecycle_years=lifecycle_years, catalog=load_catalog(data_dir()))
    report = run_audit(opened, options, check_ids, waiver_set)
    for message in report.notices:
        notice(message)
    color, width = use_color(output, fmt is AuditFormat.TABLE)
    write_output(render_audit(report, fmt, color=color, width=width), output)
    summary = report.summary()
    if summary["error"]:
        notice(f"{summary['error']} check(s) could not be decided (status error)")
    gate = report.gate_failures(fail_on.severity())
    if gate:
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
) -> None:
    """List installed packages (dpkg, rpm, apk) and emit SBOMs."""
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.report import packages as render
    from imagevet.target import open_target

    opened = open_target(target)
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
