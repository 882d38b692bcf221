"""Option defaults from a settings file and the environment, the way Trivy and Grype users expect them.

Precedence, highest first: the command line, ``IMAGEVET_<OPTION>`` (the long name in capitals, ``-`` as
``_``: ``IMAGEVET_FAIL_ON=medium``), the settings file, the built-in default. The settings file is
``--config PATH``, else ``$IMAGEVET_CONFIG``, else ``imagevet.yaml`` in the working directory. It maps long
option names (without ``--``) to values; a key that is a command's name holds settings for that command
only (``audit: {format: sarif}``), which win over the top-level ones. A top-level setting applies to every
command that has the option.

Both feed Click's ``default_map``, so a value passes the option's own type and callback like a typed one.
Values are checked here first, for the command about to run, so that a bad one is refused with its source
(``imagevet.yaml: line 3: fail-on: ...`` or ``IMAGEVET_FAIL_ON: ...``) instead of Click's message about an
option the user never typed. An unknown key is refused (a typo must not silently change nothing), and so is
every key that cannot be a default (``help``, ``version``, ``config``, completion).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagevet.errors import ImagevetError
from imagevet.userfile import read_capped_text

if TYPE_CHECKING:  # YAML is loaded only when there is a settings file (every run imports this module)
    import yaml

    from imagevet.catalog.safe_yaml import Document

SETTINGS_FILE = "imagevet.yaml"
MAP_TAG = "tag:yaml.org,2002:map"
CONFIG_ENV = "IMAGEVET_CONFIG"
ENV_PREFIX = "IMAGEVET_"
MAX_BYTES = 256 * 1024
NOT_SETTABLE = frozenset({"help", "version", "config", "install-completion", "show-completion"})
# Options with no IMAGEVET_<OPTION> variable: the generated pipeline (pipeline/render.py) keeps the signing
# key's content in a secret named IMAGEVET_KEY, which must never be taken for --key's file name (and echoed
# in "cannot read private key ...").
NOT_FROM_ENV = frozenset({"key"})
# What a settings file may set: options that shape a run's judgement and its report. Never what imagevet
# connects to, reads identities or advisories from, writes, sends, signs or files a report under: a file
# committed to the repository under review could otherwise post the report with the user's token to its
# own server, plant files, forge an attestation's digest or point at its own advisory database. Fail
# closed: an option added later stays refused in files until it is listed here.
FILE_SETTABLE = frozenset(
    {
        "format", "quiet", "fail-on", "severity", "allow-errors", "allow-stale-db", "max-db-age", "waivers",
        "checks", "profile", "lifecycle-years", "min-cloud-init", "ignore-unfixed", "framework", "compliance",
        "allow-paid-support", "scenario", "arch", "gpu", "cloud", "timeout", "concurrency", "log-level",
        "as-of", "ecosystem", "emit", "layers", "base", "variant", "release", "job-attempts",
        "job-time-limit",
    }
)  # fmt: skip
# Of those, the ones that cannot change a verdict. A file setting anything else is named on stderr even
# with --quiet (fail closed: a new settable option is loud until it is listed here).
HARMLESS = frozenset({"format", "quiet", "timeout", "concurrency", "log-level"})
_ROOT_VALUE_OPTIONS = frozenset(
    {"--config"}
)  # root options that take a value (skipped when finding the path)


class SettingsError(ImagevetError):
    """A settings file or IMAGEVET_* variable the run cannot use."""


@dataclass
class FileSettings:
    """What a settings file says: values for every command, and sections for one command each."""

    source: str
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)  # long name -> (value, line)
    sections: dict[str, FileSettings] = field(default_factory=dict)  # command name -> its settings


def long_name(param: Any) -> str | None:
    """An option's long name without dashes (``fail-on``), or None for arguments and short-only options."""
    if getattr(param, "param_type_name", "") != "option":
        return None
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0][2:] if longs else None


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def subcommands(command: Any) -> dict[str, Any]:
    return dict(getattr(command, "commands", None) or {})


def command_path(root: Any, argv: Sequence[str]) -> list[tuple[str, Any]]:
    """The commands ``argv`` runs, root first, as (name, command): ``db update`` gives root, db, update.

    Options before a command name are skipped (``--config`` with its value); the walk stops at the first
    word that names no subcommand, so a typo leaves the path short and Click reports the typo itself."""
    path: list[tuple[str, Any]] = [("", root)]
    words = iter(before_double_dash(argv))
    for word in words:
        if word in _ROOT_VALUE_OPTIONS:
            next(words, None)
            continue
        if word.startswith("-"):
            continue
        child = subcommands(path[-1][1]).get(word)
        if child is None:
            break
        path.append((word, child))
    return path


def before_double_dash(argv: Sequence[str]) -> list[str]:
    words = list(argv)
    return words[: words.index("--")] if "--" in words else words


def config_argument(argv: Sequence[str]) -> str | None:
    """The value of ``--config`` on the command line (``--config X`` or ``--config=X``). Given twice or
    empty (``--config="$UNSET"``) it is refused: falling back to another file would be a silent choice."""
    words = before_double_dash(argv)
    found: list[str] = []
    for index, word in enumerate(words):
        if word == "--config":
            found.append(words[index + 1] if index + 1 < len(words) else "")
        elif word.startswith("--config="):
            found.append(word.split("=", 1)[1])
    if len(found) > 1:
        raise SettingsError("--config is given more than once; name one settings file")
    if found and not found[0]:
        raise SettingsError("--config needs a file name")
    return found[0] if found else None


def settings_path(argv: Sequence[str], environ: Mapping[str, str], cwd: Path) -> Path | None:
    """--config, else $IMAGEVET_CONFIG, else ./imagevet.yaml when there is one. A file that is there in
    some form but cannot be read as one (a dangling link, a loop, a FIFO, a directory) is refused: its
    settings (a stricter gate, required waivers) must not be dropped without a word."""
    typed = config_argument(argv)
    named = typed or environ.get(CONFIG_ENV) or None
    if named is not None:
        path = Path(named)
        if not path.is_file():
            source = "--config" if typed else CONFIG_ENV
            raise SettingsError(f"{source}: settings file {named!r} does not exist or is not a regular file")
        return path
    default = cwd / SETTINGS_FILE
    if default.is_file():
        return default
    if os.path.lexists(default):
        raise SettingsError(f"{default} is there but is not a regular file (a link that does not resolve, a "
                            "directory or a device); remove it or pass --config")  # fmt: skip
    return None


def read_settings(path: Path, root: Any) -> FileSettings:
    """Parse a settings file within fixed bounds, against the commands and options of ``root``; every
    problem names the file and the line."""
    from imagevet.catalog.safe_yaml import Limits, load

    text = read_capped_text(path, f"settings file {str(path)!r}", MAX_BYTES, SettingsError)
    doc = load(text, str(path), SettingsError, Limits(max_chars=MAX_BYTES, max_depth=8, max_aliases=0))
    settings = FileSettings(str(path))
    if not doc.is_null(doc.root):
        assert doc.root is not None
        _read_mapping(doc, doc.root, settings, subcommands(root), all_options(root), "the settings file")
    return settings


def _read_mapping(
    doc: Document,
    node: yaml.Node,
    into: FileSettings,
    commands: Mapping[str, Any],
    options: set[str],
    what: str,
) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode) and node.tag != MAP_TAG:
        raise doc.fail(node, f"{what} has an unsupported tag")
    for key, key_node, value_node in doc.mapping(node, what):
        # `push`, `token` and `audit` name a command and an option: a mapping (or nothing) is a section.
        section_like = isinstance(value_node, yaml.MappingNode) or doc.is_null(value_node)
        if key in commands and (key not in options or section_like):
            section = into.sections.setdefault(key, FileSettings(into.source))
            if not doc.is_null(value_node):
                child = commands[key]
                child_options = all_options(child)
                _read_mapping(doc, value_node, section, subcommands(child), child_options, f"section {key!r}")
            continue
        if key in NOT_SETTABLE:
            raise doc.fail(key_node, f"{key!r} cannot be set in a settings file")
        if key not in options:
            raise doc.fail(
                key_node,
                f"unknown setting in {what} (settings are options by their long name, such as "
                "fail-on, or a command's name holding its own)",
            )
        if key not in FILE_SETTABLE:
            elsewhere = "" if key in NOT_FROM_ENV else f" or as {env_name(key)}"
            raise doc.fail(
                key_node,
                f"{key!r} cannot be set in a settings file: a file may not choose what imagevet connects "
                f"to, reads, writes, sends or signs (give --{key} on the command line{elsewhere})",
            )
        if isinstance(value_node, yaml.SequenceNode):
            value: Any = [_written(doc, item, key) for item in doc.sequence(value_node, key)]
        else:
            value = _written(doc, value_node, key)
        into.values[key] = (value, key_node.start_mark.line + 1)


def _written(doc: Document, node: yaml.Node, key: str) -> str:
    """A scalar as the file writes it. YAML would turn ``22.10`` into 22.1, ``0012`` into 10, ``1:30`` into
    90 and ``~`` into None; an option reads text, so it gets the text (tags are still checked)."""
    import yaml

    if doc.is_null(node):
        raise doc.fail(node, f"{key} is empty (remove the line to keep the default)")
    doc.value(node, key)  # refuses collections and tags YAML cannot build
    assert isinstance(node, yaml.ScalarNode)
    return str(node.value)


def all_options(root: Any) -> set[str]:
    """Every long option name of ``root`` and the commands below it: what its section may name."""
    names: set[str] = set()
    stack = [root]
    while stack:
        command = stack.pop()
        names |= {n for p in command.params if (n := long_name(p)) is not None}
        stack += subcommands(command).values()
    return names - NOT_SETTABLE


def _as_default(param: Any, value: Any, source: str) -> Any:
    """``value`` (text, or a list of texts for an option given many times) in the form Click takes from a
    default_map; a flag's true/false is decided here. Other types are checked by the option itself, as a
    typed value is, and main() names ``source`` in the message. No option takes line breaks or control
    characters: such a value (a key or a token in a variable that happens to be named like an option) is
    refused unshown."""
    texts = value if isinstance(value, list) else [value]
    if any(any(ord(c) < 32 or ord(c) == 127 for c in t) for t in texts):
        raise SettingsError(
            f"{source}: {long_name(param)}: the value has line breaks or control characters, which no "
            "option takes (not shown)"
        )
    if isinstance(value, list) and not param.multiple:
        raise SettingsError(f"{source}: {long_name(param)} takes one value, not a list")
    if param.is_flag:
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise SettingsError(f"{source}: --{long_name(param)}: not true or false")
    return texts if param.multiple else value


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


@dataclass
class Defaults:
    """Click's ``default_map`` for one run, where each value came from, and what the file set."""

    default_map: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # parameter name -> "FILE: line N" or variable
    by_option: dict[str, str] = field(default_factory=dict)  # long name (fail-on) -> the same
    by_value: dict[str, str] = field(default_factory=dict)  # a value given (as text) -> the same
    from_file: list[str] = field(default_factory=list)


def defaults_for(
    path: list[tuple[str, Any]], settings: FileSettings | None, environ: Mapping[str, str]
) -> Defaults:
    """The defaults for the commands on ``path``.

    A setting comes from the most specific section along the path (``db: {update: {...}}`` over ``db:``
    over the top level) and applies to every command on the path that has the option."""
    sections = [settings] if settings is not None else []
    for name, _ in path[1:]:
        if not sections or name not in sections[-1].sections:
            break
        sections.append(sections[-1].sections[name])
    defaults = Defaults()
    level = defaults.default_map
    from_file: set[str] = set()
    for depth, (name, command) in enumerate(path):
        if depth > 0:
            level = level.setdefault(name, {})
        for param in command.params:
            option = long_name(param)
            if option is None or option in NOT_SETTABLE:
                continue
            variable = env_name(option)
            # An empty variable is unset, as it was before (IMAGEVET_DB="" never meant the working directory).
            if environ.get(variable) and not param.envvar and option not in NOT_FROM_ENV:
                level[param.name] = _as_default(param, _env_value(param, environ[variable]), variable)
                defaults.sources[param.name] = defaults.by_option[option] = variable
                defaults.by_value[environ[variable]] = variable
                continue
            chosen = next((s for s in reversed(sections) if option in s.values), None)
            if chosen is not None:
                value, line = chosen.values[option]
                source = f"{chosen.source}: line {line}"
                level[param.name] = _as_default(param, value, source)
                defaults.sources[param.name] = defaults.by_option[option] = source
                if isinstance(value, str):
                    defaults.by_value[value] = source
                from_file.add(option)
    defaults.from_file = sorted(from_file)
    return defaults


def _env_value(param: Any, text: str) -> Any:
    """An environment value: for an option given many times, values separated by commas (ecosystems such
    as "Rocky Linux" have spaces)."""
    return [v.strip() for v in text.split(",") if v.strip()] if param.multiple else text
