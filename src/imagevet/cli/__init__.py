"""Command line: the only place that prints, exits, reads the clock and the environment.

One module per area registers its commands on the shared Typer app (imported here in the order ``--help``
lists them): audit, vuln, db, build, service, images; ``common`` holds what they share.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import NoReturn

import typer

# Registration order is the order `imagevet --help` lists the commands in.
# isort: off
from imagevet.cli import audit
from imagevet.cli import vuln
from imagevet.cli import db
from imagevet.cli import build
from imagevet.cli import service
from imagevet.cli import images
from imagevet.cli import catalog

# isort: on
from imagevet.cli.common import app
from imagevet.errors import ImagevetError

__all__ = ["app", "audit", "build", "catalog", "db", "images", "main", "service", "vuln"]


class Stopped(BaseException):
    """SIGTERM or SIGINT, raised in the main thread so that the run unwinds: every ``finally`` and
    ``except BaseException`` runs, removing temporary files (a half-built advisory database, decompressed
    layers, a scratch copy of an RPM database) instead of leaving them behind as a killed process would.
    Not KeyboardInterrupt, which Typer swallows into a silent exit 130."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once
    raise Stopped(signum)


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
    for signum in (signal.SIGTERM, signal.SIGINT):  # `serve` and `worker` install their servers' own
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup and background jobs keep ignoring
            signal.signal(signum, _stop)
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
    except Stopped as stop:
        sys.stderr.write(f"imagevet: {'terminated' if stop.signum == signal.SIGTERM else 'interrupted'}\n")
        sys.exit(128 + stop.signum)
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
