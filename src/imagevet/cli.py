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
    opened = open_target(target)
    report = run_audit(
        opened, CheckOptions(as_of=today, lifecycle_years=lifecycle_years), check_ids, waiver_set
    )
    for message in report.notices:
        notice(message)
    color = (
        output is None and fmt is AuditFormat.TABLE and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    width = 120
    if color:
        width = max(80, min(os.get_terminal_size().columns, 160))
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
