"""What every command shares: the Typer app, output writing, dates, data paths, push options."""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from imagevet import __version__
from imagevet.cli.declare import Option, Typer
from imagevet.errors import ImagevetError
from imagevet.model import CLOUDS, Severity
from imagevet.output import STDOUT, destination, write_text
from imagevet.service.vocabulary import CLOUDS as PUSH_CLOUDS  # the catalog's clouds and onprem
from imagevet.userfile import read_capped_text

app = Typer(
    name="imagevet",
    help="Choose cloud server OS images and prove they are fit to deploy.",
    context_settings={"help_option_names": ["-h", "--help"]},
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
        write_output(f"imagevet {__version__}\n")
        raise SystemExit(0)


class _Voice:
    """Whether notices and progress go to stderr: ``--quiet`` (or ``quiet: true``) silences both; errors
    and the report itself are never silenced. ``pending`` holds notices said once the command line has
    been parsed (a line about settings would only be noise above a usage error)."""

    quiet = False
    pending: list[tuple[str, bool]] = []  # noqa: RUF012 (one process, one command)


def notice_when_running(message: str, even_if_quiet: bool = False) -> None:
    """A notice said once the command line parsed; ``even_if_quiet`` for what the user must see (a
    settings file that changed the gate)."""
    _Voice.pending.append((message, even_if_quiet))


def say_pending() -> None:
    while _Voice.pending:
        message, loud = _Voice.pending.pop(0)
        if loud:
            sys.stderr.write(f"imagevet: {message}\n")
        else:
            notice(message)


def set_quiet(value: bool) -> None:
    _Voice.quiet = value


def is_quiet() -> bool:
    return _Voice.quiet


def _quiet(value: bool) -> None:
    if value:
        set_quiet(True)


# The root's --quiet and --config are shared with every command (cli/__init__.py), so that they work before
# or after the command's name, as Trivy's global flags do. Neither reaches a command's function.
QUIET_HELP = "No progress and no notices on stderr (errors and the report are still written)."
CONFIG_HELP = "Settings file (default: ./imagevet.yaml or $IMAGEVET_CONFIG); see docs/configuration.md."


@app.callback()
def _root(
    version: Annotated[
        bool, Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    quiet: Annotated[
        bool, Option("--quiet", "-q", callback=_quiet, expose_value=False, help=QUIET_HELP)
    ] = False,
    config: Annotated[
        Path | None, Option("--config", metavar="FILE", expose_value=False, help=CONFIG_HELP)
    ] = None,
) -> None:
    """imagevet: recommend, audit and govern cloud server OS images."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_date(text: str | None) -> dt.date:
    """--as-of: exactly YYYY-MM-DD (ASCII digits), a real calendar day; Python's fromisoformat alone would
    also take 20261128 and week dates such as 2026-W48-1."""
    if text is None:
        return dt.date.today()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ImagevetError(f"--as-of {text!r} is not a YYYY-MM-DD date") from exc


_VERSION_XY = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){1,2}", re.ASCII)


def parse_min_version(text: str, option: str) -> str:
    """A minimum version option such as --min-cloud-init: X.Y or X.Y.Z, ASCII digits only."""
    if not _VERSION_XY.fullmatch(text):
        raise ImagevetError(f"{option} {text!r} is not a version of the form X.Y (for example 22.1)")
    return text


def is_stdout(output: Path | None) -> bool:
    return output is None or str(output) == STDOUT


def _write_stdout(text: str | bytes) -> None:
    """All of ``text`` on stdout, or an exception. Under PYTHONUNBUFFERED (``python -u``) the text layer
    writes straight to the file and ignores a short write (a full disk, a non-blocking pipe): the rest
    would be lost with exit 0. So the bytes go to the binary layer until every one is taken. UTF-8
    bytes (a report encoded as it was made) go as they are where stdout's encoding is UTF-8; anywhere
    else they are text again, held to that encoding as any text is."""
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    encoding = stream.encoding or "utf-8"
    if isinstance(text, bytes) and (binary is None or codecs.lookup(encoding).name != "utf-8"):
        text = text.decode("utf-8")
    if binary is None:  # a plain text stream (a test's capture): it writes all or raises
        assert isinstance(text, str)
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # what earlier writes left in the text layer goes first
    encoded = text if isinstance(text, bytes) else text.encode(encoding, stream.errors or "strict")
    data = memoryview(encoded)
    while data:
        written = binary.write(data)
        if written is None:  # a non-blocking descriptor that would block
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        data = data[written:]
    binary.flush()


def write_output(text: str | bytes, output: Path | None = None, mode: int = 0o644) -> None:
    """Write to stdout (no -o, or ``-o -``), else as imagevet.output does: a regular file replaced
    atomically, a device or FIFO written as is, nothing else destroyed. ``mode`` is for a new file."""
    if is_stdout(output):
        try:
            _write_stdout(text)
        except BrokenPipeError:
            raise  # the reader left (`| head`): main() ends the run with exit 1 and no message
        except OSError as exc:  # a full disk under `> file`, /dev/full: the result was not delivered
            raise ImagevetError(f"cannot write to standard output: {exc.strerror or exc}") from exc
        except UnicodeEncodeError as exc:
            raise ImagevetError(
                f"cannot write to standard output: its encoding ({exc.encoding}) cannot represent the "
                "output; use a UTF-8 locale or PYTHONIOENCODING=utf-8, or -o FILE"
            ) from exc
        return
    assert output is not None
    write_text(output, text, mode)


def checked_output(value: Path | None) -> Path | None:
    """The callback of every --output option: a directory, a block device or a missing parent directory
    is refused before any work is done."""
    if not is_stdout(value):
        assert value is not None
        destination(value)
    return value


def output_option(help_text: str) -> Any:
    return Option("--output", "-o", help=f"{help_text} ('-': stdout).", callback=checked_output)


def read_user_file(path: Path, what: str, max_bytes: int = 16 * 1024 * 1024) -> str:
    """A text file the user named (waivers, inventory, a report to push): its UTF-8 content, or a one-line
    error that quotes none of it; at most ``max_bytes`` are read (userfile.read_capped_text)."""
    return read_capped_text(path, f"{what} {str(path)!r}", max_bytes)


def notice(message: str) -> None:
    """One line on stderr for the person running the command, unless --quiet."""
    if not is_quiet():
        sys.stderr.write(f"imagevet: {message}\n")


def show_progress() -> bool:
    """Progress is drawn only on a terminal's stderr, and never with --quiet."""
    return sys.stderr.isatty() and not is_quiet()


class ProgressLine:
    """The one progress display of every command: a transient Rich bar on a terminal's stderr, or
    nothing (``--quiet``, a pipe, a log file): the work calls it the same way either way."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar, self._task = bar, task
        self._transfers: dict[str, Any] = {}

    def step(self, description: str | None = None, advance: int = 1) -> None:
        """One more item done (``advance``), optionally saying which."""
        if self._bar is not None:
            self._bar.update(self._task, advance=advance, description=description)

    def at(self, completed: int, description: str | None = None) -> None:
        """``completed`` items done so far."""
        if self._bar is not None:
            self._bar.update(self._task, completed=completed, description=description)

    def transfer(self, name: str, received: int, expected: int | None) -> None:
        """Bytes of one download, each download its own line."""
        if self._bar is None:
            return
        if name not in self._transfers:
            self._transfers[name] = self._bar.add_task(f"downloading {name}", total=expected)
        self._bar.update(self._transfers[name], completed=received)


@contextmanager
def progress(description: str, total: int | None = None, transfers: bool = False) -> Iterator[ProgressLine]:
    """A ProgressLine for the block; ``transfers`` shows bytes and speed (downloads), not a count."""
    if not show_progress():
        yield ProgressLine()
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn()) if transfers else ()
    # On stderr, where show_progress() looked: Rich's default console is stdout, which holds the report.
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        yield ProgressLine(bar, None if transfers else bar.add_task(description, total=total))


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


MAX_DB_AGE_DAYS = 5.0  # the default of --max-db-age: vuln.coverage.DEFAULT_MAX_AGE_DAYS, Grype's five days
DbOption = Annotated[Path | None, Option("--db", help="Advisory database (default: $IMAGEVET_DB).")]
MaxDbAgeOption = Annotated[
    float,
    Option(
        "--max-db-age", min=0, help="Days the image's advisories may be old before the data counts as stale."
    ),
]
AllowStaleOption = Annotated[
    bool,
    Option("--allow-stale-db", help="Use stale advisory data anyway (the report carries a warning)."),
]


def advisories_for(db: Path | None, max_age_days: float, allow_stale: bool) -> Any:
    """The advisory database with its coverage and the freshness policy, judged against the real clock
    (--as-of moves lifecycle dates, not the age of the data). A missing database is not an input error: the
    checks that need it are ``error`` with the fix; an unreadable one is (exit 2)."""
    from imagevet.vuln.coverage import FIX, Advisories, CoveragePolicy

    path = db_path(db)
    policy = CoveragePolicy(dt.datetime.now(dt.UTC), max_age_days, allow_stale)
    if not path.exists():
        return Advisories(None, {}, policy, str(path), f"no advisory database at {path}; {FIX}, or pass --db")
    from imagevet.vuln.db import AdvisoryDatabase

    database = AdvisoryDatabase(path)
    return Advisories(database, database.coverage, policy, str(path))


def use_color(output: Path | None, table: bool) -> tuple[bool, int]:
    """Colour only for a table on a terminal, and never with NO_COLOR; width follows the terminal."""
    color = is_stdout(output) and table and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = max(80, min(os.get_terminal_size().columns, 160)) if color else 120
    return color, width


PushOption = Annotated[
    str | None, Option("--push", help="Also send the JSON report to this imagevet service URL.")
]
PushImageIdOption = Annotated[str | None, Option("--image-id", help="With --push: the image id.")]
PushCloudOption = Annotated[
    str | None, Option("--cloud", help="With --push: the image's cloud (aws, azure, …, onprem).")
]
TokenOption = Annotated[
    str | None, Option("--token", envvar="IMAGEVET_TOKEN", help="Write token for --push.")
]


CLOUD_CHOICES = ", ".join(CLOUDS)  # for help texts: "aws, azure, alibaba, tencent, gcp"


def check_push(server: str | None, token: str | None, cloud: str | None, image_id: str | None) -> None:
    """--push needs a token, the image id and its cloud (no silent default: the same id on another cloud
    is another image); checked before any work is done."""
    if server is None:
        return
    if not token or not image_id:
        raise ImagevetError("--push needs --token (or IMAGEVET_TOKEN) and --image-id")
    if cloud not in PUSH_CLOUDS:
        raise ImagevetError(f"--push needs --cloud ({', '.join(PUSH_CLOUDS)})")


def push_if_asked(
    server: str | None, token: str | None, document: Any, cloud: str | None, image_id: str | None
) -> None:
    """--push: send ``document`` as a report of (cloud, image id), registering the image if new."""
    if server is None:
        return
    check_push(server, token, cloud, image_id)
    assert token is not None and cloud is not None and image_id is not None
    from imagevet.service.client import push

    result = push(server, token, document, cloud, image_id, register=True)
    notice(f"pushed {result['schema']} to {server} (image {result['image']}, report {result['id']})")


def now_for(as_of: str | None) -> dt.datetime:
    """The moment ages and deprecation times are judged at: now, or midnight UTC of --as-of."""
    if as_of is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(parse_date(as_of), dt.time(), tzinfo=dt.UTC)


# --- reports: the --severity option and the width tables are laid out for (reshape-reports) ------------

SeverityOption = Annotated[
    str | None,
    Option(
        "--severity",
        help="Show only these severities (comma-separated: info,low,medium,high,critical); "
        "the gate still judges every result.",
    ),
]
DEFAULT_TABLE_WIDTH = 80  # Rich's width for a console that is not a terminal (a pipe or a file)


def table_width(output: Path | None) -> int:
    """The width a table is laid out for: $COLUMNS when it is a number (as Rich and most tools honour
    it), else the terminal's when the table goes to one, else 80, Rich's default for a pipe or file."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if is_stdout(output) and sys.stdout.isatty():
        return os.get_terminal_size().columns
    return DEFAULT_TABLE_WIDTH
