"""What every command shares: the Typer app, output writing, dates, data paths, push options."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from imagevet import __version__
from imagevet.errors import ImagevetError
from imagevet.model import Severity

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


def now_for(as_of: str | None) -> dt.datetime:
    """The moment ages and deprecation times are judged at: now, or midnight UTC of --as-of."""
    if as_of is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(parse_date(as_of), dt.time(), tzinfo=dt.UTC)
