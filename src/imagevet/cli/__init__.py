"""Command line: the only place that prints, exits, reads the clock and the environment.

One module per area registers its commands on the shared Typer app: audit, vuln, db, build, service,
images, catalog; ``common`` holds what they share. A run imports only the module of the command it runs
(``imagevet audit`` never imports the service, the pipeline or the cloud SDKs), unless it needs the whole
tree: help without a command, shell completion, or a settings file (checked against every command).
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from imagevet.cli import common, settings
from imagevet.cli.common import notice_when_running, say_pending, set_quiet
from imagevet.errors import ImagevetError
from imagevet.quietlog import quiet_library_logging

__all__ = ["app", "build_command", "load_commands", "main", "plain"]

# Each command's module, in the order `imagevet --help` lists the commands (tests/cli/test_lazy.py
# checks this table against what the modules register).
COMMAND_MODULES: dict[str, str] = {
    "audit": "audit",
    "compliance": "audit",
    "checks": "audit",
    "packages": "vuln",
    "vuln": "vuln",
    "db": "db",
    "harden": "build",
    "attest": "build",
    "pipeline": "build",
    "serve": "service",
    "worker": "service",
    "push": "service",
    "token": "service",
    "verify": "images",
    "lifecycle": "images",
    "recommend": "images",
    "catalog": "catalog",
}
MODULES = tuple(dict.fromkeys(COMMAND_MODULES.values()))


def load_commands(modules: tuple[str, ...] = MODULES) -> None:
    """Import the command modules (each registers its commands on the shared app once)."""
    for module in modules:
        importlib.import_module(f"imagevet.cli.{module}")


def __getattr__(name: str) -> Any:
    """``imagevet.cli.app`` is the whole tree; ``imagevet.cli.audit`` and its siblings are modules."""
    if name == "app":
        load_commands()
        return common.app.real()
    if name in MODULES:
        return importlib.import_module(f"imagevet.cli.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


MAX_MESSAGE = 400  # a value echoed in a refusal (a 100 KB IMAGEVET_FORMAT) is cut, not printed whole


def fail(message: str) -> NoReturn:
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    sys.stderr.write(f"imagevet: error: {message}\n")
    sys.exit(2)


# Typer's value checks speak pydantic ("Input should be a valid integer, unable to parse string as an
# integer", "Value error, ..."): said in the words of the option instead.
# Patterns as text, compiled by re on first use: only a refused command line needs them.
_PLAIN: list[tuple[str, int, Any]] = [
    (r"Value error, ", 0, ""),
    (r"Input should be a valid number, unable to parse string as a number", 0, "not a number"),
    (
        r"Input should be a valid integer, unable to parse string as an integer",
        0,
        "not a whole number",
    ),
    (r"Input should be a valid integer(, [^.]*)?", 0, "not a whole number"),
    (r"Input should be a valid number(, [^.]*)?", 0, "not a number"),
    (r"Input should be a valid boolean(, unable to interpret input)?", 0, "not true or false"),
    (r"Input should be greater than or equal to ", 0, "must be at least "),
    (r"Input should be less than or equal to ", 0, "must be at most "),
    (r"Input should be greater than ", 0, "must be more than "),
    (r"Input should be less than ", 0, "must be less than "),
    # Click's own words (Typer before 0.29, which this project pins: docs/dependencies.md).
    # The value itself (repr'd in either quote) is never repeated: it may be long or hostile.
    (r"(?<=: ).* is not a valid float( range)?(?=\.?$)", re.S, "not a number"),
    (r"(?<=: ).* is not a valid int(eger)?( range)?(?=\.?$)", re.S, "not a whole number"),
    (r"(?<=: ).* is not a valid boolean(?=\.?$)", re.S, "not true or false"),
    (r"\S+ is not in the range (\S+)", 0, lambda m: _out_of_range(m.group(0), m.group(1))),
    (r"\.$", 0, ""),
]
_BOUND = r"(?:([^<>=]+)(<=?))?x(?:(<=?|>=?)([^<>=]+))?$"


def _out_of_range(said: str, bounds: str) -> str:
    """Click's ``99999 is not in the range 1<=x<=65535`` as the bound it broke (``must be at most
    65535``); the value itself is not repeated (it may be long or hostile)."""
    bounds = bounds.rstrip(".")  # Click ends its sentence: "x>=0.1." is the bound 0.1
    value, match = said.split(" ", 1)[0], re.match(_BOUND, bounds)
    if match is None:
        return f"must be in the range {bounds}"
    low, low_op, high_op, high = match.groups()
    if high_op in (">=", ">"):  # x>=0 is a lower bound written on the right
        low, low_op, high, high_op = high, "<=" if high_op == ">=" else "<", None, None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    below = number != number or (
        low is not None and (number < float(low) or (low_op == "<" and number == float(low)))
    )
    if low is not None and below:
        return f"must be at least {low}" if low_op == "<=" else f"must be more than {low}"
    if high is not None:
        return f"must be at most {high}" if high_op == "<=" else f"must be less than {high}"
    return f"must be at least {low}" if low_op == "<=" else f"must be more than {low}"


_INVALID_VALUE = r"Invalid value for '([^']+)'(?: / '([^']+)')?: "


def _option_name(match: re.Match[str]) -> str:
    names = [n for n in match.groups() if n]
    return next((n for n in names if n.startswith("--")), names[0]) + ": "


def plain(message: str) -> str:
    """A Click/Typer message in imagevet's words: ``--format: 'xml' is not one of ...``."""
    message = re.sub(_INVALID_VALUE, _option_name, message)
    for pattern, flags, replacement in _PLAIN:
        message = re.sub(pattern, replacement, message, flags=flags)
    return message


def _parser_error(exc: BaseException) -> str | None:
    """The one-line message of a command-line parsing error raised by Typer's (vendored) click."""
    format_message = getattr(exc, "format_message", None)
    if not callable(format_message) or not hasattr(exc, "exit_code"):
        return None
    lines = str(format_message()).strip().splitlines()
    return plain(lines[0]) if lines else "usage error"


def _share_root_options(root: Any) -> None:
    """Give every command the root's --quiet and --config (the same parameter objects, which reach no
    command's function), so that ``imagevet audit X -q`` works as ``imagevet -q audit X`` does; and let
    each command say the pending notices once its command line parsed."""
    shared = [p for p in root.params if settings.long_name(p) in ("quiet", "config")]
    stack = list(settings.subcommands(root).values())
    while stack:
        command = stack.pop()
        command.params.extend(shared)
        for param in command.params:
            _finite_only(param)
        if command.callback is not None and not settings.subcommands(command):
            command.callback = _after_notices(command.callback)
        stack += settings.subcommands(command).values()


def _finite_only(param: Any) -> None:
    """A number option refuses nan and inf (Click's float types accept both): a timeout of inf or a
    lifecycle of nan years is no setting anyone meant, and would reach sockets and comparisons."""
    kind: Any = getattr(param, "type", None)
    if type(kind).__name__ not in ("FloatParamType", "FloatRange") or getattr(kind, "_finite_only", False):
        return
    convert = kind.convert

    def finite(value: Any, param: Any, ctx: Any) -> Any:
        result = convert(value, param, ctx)
        if isinstance(result, float) and not math.isfinite(result):
            kind.fail("not a finite number", param, ctx)
        return result

    kind.convert, kind._finite_only = finite, True


def _after_notices(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        say_pending()
        return callback(*args, **kwargs)

    return run


def build_command(modules: tuple[str, ...] = MODULES) -> Any:
    """The command tree as it runs: Typer's, with the root's shared options on every command; of every
    command, or of those of ``modules`` only (a run that needs only its own)."""
    load_commands(modules)
    import typer

    command: Any = typer.main.get_command(common.app.real())
    # Listed in the table's order, whichever module an earlier caller happened to import first.
    found = settings.subcommands(command)
    order = {name: index for index, name in enumerate(COMMAND_MODULES)}
    for name in sorted(found, key=lambda n: order.get(n, len(order))):
        command.commands[name] = command.commands.pop(name)
    _share_root_options(command)
    return command


def _command_word(argv: list[str]) -> str | None:
    """The command a command line runs (the first word that is not a root option or its value)."""
    words = iter(settings.before_double_dash(argv))
    for word in words:
        if word == "--config":
            next(words, None)
        elif word == "--help" or (word.startswith("-") and not word.startswith("--") and "h" in word):
            return None  # `imagevet --help audit` (or -qh) is the root's help: it lists every command
        elif not word.startswith("-"):
            return word
    return None


def modules_for(argv: list[str]) -> tuple[str, ...]:
    """The command modules this run needs: its command's alone, or all of them when it lists commands
    (help, completion, no or an unknown command) or reads a settings file (which is checked against
    every command's options)."""
    module = COMMAND_MODULES.get(_command_word(argv) or "")
    if module is None or "_IMAGEVET_COMPLETE" in os.environ:
        return MODULES
    try:
        if settings.settings_path(argv, os.environ, Path.cwd()) is not None:
            return MODULES
    except settings.SettingsError:
        return MODULES  # refused below, by the whole tree, in the usual words
    return (module,)


def _defaults(root: Any, argv: list[str]) -> settings.Defaults:
    """The defaults of this run (cli/settings.py), after saying which settings file it used. Help,
    --version and shell completion work in a checkout whose settings file is broken: a user needs help
    to fix it (the command itself still refuses the file)."""
    words = settings.before_double_dash(argv)
    try:
        path = settings.settings_path(argv, os.environ, Path.cwd())
        file = settings.read_settings(path, root) if path is not None else None
        defaults = settings.defaults_for(settings.command_path(root, argv), file, os.environ)
    except settings.SettingsError:
        if {"-h", "--help", "--version"} & set(words) or "_IMAGEVET_COMPLETE" in os.environ:
            return settings.Defaults()
        raise
    if "-q" in words or "--quiet" in words or defaults.default_map.get("quiet") is True:
        set_quiet(True)
    if defaults.from_file:
        loud = not set(defaults.from_file) <= settings.HARMLESS
        notice_when_running(f"settings from {path}: {', '.join(defaults.from_file)}", even_if_quiet=loud)
    return defaults


def _typed(opts: set[str], argv: list[str]) -> bool:
    """Whether the command line gives one of ``opts`` (``--opt``, ``--opt=V``, ``-f V`` or ``-fV``)."""
    shorts = [o for o in opts if len(o) == 2 and o[0] == "-" and o[1] != "-"]
    return any(
        word.split("=", 1)[0] in opts or any(word.startswith(s) and not word.startswith("--") for s in shorts)
        for word in settings.before_double_dash(argv)
    )


def _named_source(
    exc: BaseException, message: str, defaults: settings.Defaults | None, argv: list[str]
) -> str:
    """A bad value that came from the settings file or IMAGEVET_*, not the command line, is named by
    where it came from: the user never typed the option Click's message names."""
    param = getattr(exc, "param", None)
    name = getattr(param, "name", None)
    if defaults is None or name not in defaults.sources:
        return message
    return (
        message if _typed(set(getattr(param, "opts", ())), argv) else f"{defaults.sources[name]}: {message}"
    )


_LEADING_OPTION = r"(--[a-z0-9][a-z0-9-]*)\b"


def _blamed(message: str, defaults: settings.Defaults | None, argv: list[str]) -> str:
    """imagevet's own refusal of an option's value (``--min-cloud-init 'abc' is not a version``), named by
    its source when the settings file or a variable gave it."""
    if defaults is None:
        return message
    match = re.match(_LEADING_OPTION, message)
    if match is not None:
        source = defaults.by_option.get(match.group(1)[2:])
        return message if source is None or _typed({match.group(1)}, argv) else f"{source}: {message}"
    # A refusal that quotes the value (cannot read waiver file 'x'): the source of that value.
    quoted = [source for value, source in defaults.by_value.items() if value and repr(value) in message]
    return f"{quoted[0]}: {message}" if len(quoted) == 1 else message


FAST_CLI_ENV = "IMAGEVET_FAST_CLI"  # "off": every run is parsed by Typer (cli/fast.py says why not)


def _parsed_without_typer(args: list[str]) -> Any:
    """The run parsed by cli/fast.py, or None when Typer must parse it: shell completion, a settings file
    (checked against every command), or anything the fast parser leaves to Typer (help, an error)."""
    if "_IMAGEVET_COMPLETE" in os.environ or os.environ.get(FAST_CLI_ENV, "").lower() == "off":
        return None
    try:
        if settings.settings_path(args, os.environ, Path.cwd()) is not None:
            return None
    except settings.SettingsError:
        return None
    from imagevet.cli import fast

    return fast.prepare(args, os.environ)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage and input errors become one line on stderr and exit code 2."""
    # Libraries (cloud SDKs, urllib3) log warnings; without a handler Python prints them to stderr, which
    # would bury imagevet's one-line messages. imagevet itself reports through its return values.
    quiet_library_logging()
    for signum in (signal.SIGTERM, signal.SIGINT):  # `serve` and `worker` install their servers' own
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup and background jobs keep ignoring
            signal.signal(signum, _stop)
    args = list(sys.argv[1:] if argv is None else argv)
    defaults: settings.Defaults | None = None
    try:  # the parse too: a signal during it is answered below, not with a traceback
        prepared = _parsed_without_typer(args)
        command: Any = build_command(modules_for(args)) if prepared is None else None
        if prepared is not None:
            defaults = prepared.defaults
            code = prepared.run()
        else:
            defaults = _defaults(command, args)
            code = command.main(
                args=args, prog_name="imagevet", standalone_mode=False, default_map=defaults.default_map
            )
    except ImagevetError as exc:
        fail(_blamed(str(exc), defaults, args))
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
        fail(_named_source(exc, message, defaults, args))
    sys.exit(code if isinstance(code, int) else 0)
