"""The documented examples, as data, and how to judge them: every fenced block of README.md and
docs/*.md, the commands of the shell blocks split the way a reader runs them, the inline commands of the
prose; the shape of a JSON example against a real document; the report a command wrote against its
format; the subcommands and options a command names against imagevet's own command line.

No running here: tests/test_docs_examples.py runs the examples in a sandbox. The rules of reading:

- a fence is three or more backticks or tildes (indented at most three spaces), closed by the same
  character at least as many times (CommonMark); the info string's first word is the language;
- in a shell block, ``#`` after white space (outside quotes) starts a comment; a line ending in ``\\``, or
  an indented line after a command, continues that command (synopses wrap that way); ``&&`` separates
  commands run one after the other on the same line; in a ``console`` block only ``$ `` lines are commands;
- a synopsis (``[--option VALUE]`` groups) has two runnable forms: minimal (every optional group left out)
  and full (every group in); in a word, ``a|b`` alternatives take the first.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

SHELL_LANGUAGES = frozenset({"sh", "bash", "console", "shell", "shell-session", "zsh"})
# Commands a reader types: a block without a language holding one of these is a shell block.
COMMAND_WORDS = ("imagevet", ".venv/bin/", "./dev.sh", "pip ", "python", "bash ", "cd ", "export ", "$ ")
UNSUPPORTED = ("|", "||", ";", "&")


@dataclass(frozen=True)
class Block:
    """One fenced block: the file (relative to the checkout), the line of its opening fence, its language
    and text (the lines between the fences)."""

    file: str
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def kind(self) -> str:
        """shell, yaml, json, python or ini; ``unknown:LANG`` for a block no test knows how to check."""
        language = self.language.lower()
        if language in SHELL_LANGUAGES:
            return "shell"
        if language in ("yaml", "yml"):
            return "yaml"
        if language in ("json", "jsonc"):
            return "json"
        if language in ("python", "py", "pycon"):
            return "python"
        if language == "ini":
            return "ini"
        if not language and self.text.lstrip().startswith(COMMAND_WORDS):
            return "shell"
        return f"unknown:{language or '(no language)'}"


@dataclass(frozen=True)
class Command:
    """One command of a shell block: where it is (``line``: its first line; ``part``: its position after
    ``&&`` on that line, from 0), its code without comments, and the comments written beside it."""

    block: Block
    line: int
    part: int
    code: str
    comments: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.block.file}:{self.line}" + (f"+{self.part}" if self.part else "")

    @property
    def comment(self) -> str:
        return " ".join(self.comments)

    @property
    def is_synopsis(self) -> bool:
        return bool(re.search(r"(^|\s)\[|\[[@-]", self.code))

    def forms(self) -> list[list[str]]:
        """The word lists to run: the command itself, or a synopsis's minimal and full forms."""
        if not self.is_synopsis:
            return [alternatives(shlex.split(self.code))]
        minimal, full = expand_synopsis(self.code)
        return [alternatives(shlex.split(minimal)), alternatives(shlex.split(full))]


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")  # any indentation: fences inside list items count too


def blocks_of(path: Path, root: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path`` (an unclosed fence runs to the end of the file;
    the body loses the fence's indentation)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    opening: tuple[int, str, int, str, int] | None = None  # line, fence character, length, language, indent
    body: list[str] = []
    name = str(path.relative_to(root))
    for number, line in enumerate(lines, start=1):
        match = FENCE.match(line)
        if opening is None:
            if match and not (match.group(2)[0] == "`" and "`" in match.group(3)):
                info = match.group(3).strip()
                fence, indent = match.group(2), len(match.group(1))
                opening = (number, fence[0], len(fence), info.split()[0] if info else "", indent)
                body = []
            continue
        closing = match and match.group(2)[0] == opening[1] and len(match.group(2)) >= opening[2]
        if closing and match and not match.group(3).strip():
            blocks.append(Block(name, opening[0], opening[3], "\n".join(body)))
            opening = None
            continue
        indent = len(line) - len(line.lstrip(" "))
        body.append(line[min(indent, opening[4]) :])
    if opening is not None:
        blocks.append(Block(name, opening[0], opening[3], "\n".join(body)))
    return blocks


TARGET_FORM = re.compile(r"(docker-archive|oci|tar|disk):[^\s…]+|ssh://[^\s…\[]+")


def inline_commands(path: Path, root: Path) -> list[Block]:
    """The inline code spans of prose (outside fenced blocks, a span may wrap lines) that are commands
    (`imagevet …`, `./dev.sh …`) or image references in one of the TARGET forms (`docker-archive:app.tar`
    …), each as a one-line block of language ``inline`` at the line where it starts."""
    lines = path.read_text(encoding="utf-8").split("\n")
    fenced = {n for b in blocks_of(path, root) for n in range(b.line, b.line + b.text.count("\n") + 2)}
    prose = "\n".join("" if number in fenced else line for number, line in enumerate(lines, start=1))
    spans: list[Block] = []
    for match in re.finditer(r"(?<!`)`((?:(?!\n\s*\n)[^`])+)`(?!`)", prose):  # within a paragraph
        span = re.sub(r"\s*\n\s*", " ", match.group(1)).strip()
        if span.startswith(("imagevet ", "./dev.sh ")) or TARGET_FORM.fullmatch(span):
            number = prose.count("\n", 0, match.start()) + 1
            spans.append(Block(str(path.relative_to(root)), number, "inline", span))
    return spans


def indented_commands(path: Path, root: Path) -> list[str]:
    """Commands in indented (unfenced) code blocks, which no test would see: ``FILE:LINE`` of each."""
    fenced = {n for b in blocks_of(path, root) for n in range(b.line, b.line + b.text.count("\n") + 2)}
    return [
        f"{path.relative_to(root)}:{number}"
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)
        if number not in fenced and re.match(r"( {4,}|\t)(\$ )?(imagevet|\./dev\.sh|\.venv/bin/)", line)
    ]


def documented_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def documented_blocks(root: Path) -> list[Block]:
    """The fenced blocks of README.md and docs/*.md, in that order."""
    return [block for path in documented_files(root) for block in blocks_of(path, root)]


def documented_spans(root: Path) -> list[Block]:
    """The inline commands of README.md and docs/*.md (see inline_commands)."""
    return [span for path in documented_files(root) for span in inline_commands(path, root)]


def split_comment(line: str) -> tuple[str, str]:
    """``(code, comment)``: a ``#`` that starts a word outside quotes starts a shell comment."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def split_and(code: str) -> list[str]:
    """``a && b`` as ``[a, b]`` (``&&`` outside quotes)."""
    words = shlex.shlex(code, posix=True, punctuation_chars="&|;<>")
    words.whitespace_split = True
    parts: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            parts.append([])
        else:
            parts[-1].append(word)
    if len(parts) == 1:
        return [code.strip()]
    pieces = re.split(r"\s&&\s", code)
    return [piece.strip() for piece in pieces] if len(pieces) == len(parts) else [code.strip()]


def unsupported_operator(words: list[str]) -> str | None:
    """A shell operator the sandbox does not run (pipes, redirections, ``;``, background, command
    substitution), if the words of a command hold one."""
    for word in words:
        if word in UNSUPPORTED or re.match(r"\d?[<>]", word) or word.endswith(";"):
            return word
        if "$(" in word or "`" in word:
            return "$(…)"
    return None


def shell_commands(block: Block) -> list[Command]:
    """The commands of a shell block with their comments."""
    commands: list[tuple[int, list[str], list[str]]] = []  # first line, code pieces, comments
    continuing = False
    first = block.line if block.language == "inline" else block.line + 1  # a span is on its own line
    for number, raw in enumerate(block.text.split("\n"), start=first):
        line = raw
        if block.language.lower() == "console":
            if not line.startswith("$ ") and not continuing:
                continue
            line = line.removeprefix("$ ")
        if not line.strip():
            continuing = False
            continue
        code, comment = split_comment(line)
        indented = line[:1].isspace()
        if (continuing or indented) and commands:
            commands[-1][1].append(code.strip().removesuffix("\\").strip())
            if comment:
                commands[-1][2].append(comment)
        elif code.strip():
            commands.append((number, [code.strip().removesuffix("\\").strip()], [comment] if comment else []))
        continuing = code.endswith("\\")
    result: list[Command] = []
    for number, pieces, comments in commands:
        code = " ".join(piece for piece in pieces if piece)
        for part, piece in enumerate(split_and(code)):
            result.append(Command(block, number, part, piece, tuple(comments)))
    return result


def _groups(text: str, keep: bool) -> str:
    """Synopsis text with its ``[...]`` groups left out (``keep=False``) or kept without brackets."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
            continue
        if char == "]" and depth:
            depth -= 1
            continue
        if keep or depth == 0:
            out.append(char)
    if depth:
        raise ValueError(f"unbalanced [ in synopsis: {text}")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def expand_synopsis(code: str) -> tuple[str, str]:
    """The minimal and the full form of a synopsis line."""
    return _groups(code, keep=False), _groups(code, keep=True)


def alternatives(words: list[str]) -> list[str]:
    """``table|json|markdown`` → ``table`` (the first alternative of each word)."""
    return [
        word.split("|", 1)[0] if re.fullmatch(r"[^|]+(\|[^|]+)+", word) and "://" not in word else word
        for word in words
    ]


class Problem(Exception):
    """A documented example that does not do what its docs say (the message names its file and line)."""


# --- JSON examples ---------------------------------------------------------------------------------

ELLIPSIS = "…"


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _merged(items: list[object], common: bool = False) -> dict[str, object]:
    """The objects of an array as one, so that every kind of item below is seen: arrays under a key are
    joined and objects merged the same way. ``common``: only the keys every object has (the fields a
    document always carries), else every key any object has."""
    objects = [item for item in items if isinstance(item, dict)]
    merged: dict[str, object] = {}
    for item in objects:
        for key, value in item.items():
            old = merged.get(key)
            if isinstance(old, list) and isinstance(value, list):
                merged[key] = old + value
            elif isinstance(old, dict) and isinstance(value, dict):
                merged[key] = _merged([old, value], common)
            elif old is None:
                merged[key] = value
    if common:
        merged = {key: value for key, value in merged.items() if all(key in item for item in objects)}
    return merged


def _missing(documented: object, real: object, where: str) -> list[str]:
    """Documented fields the real document lacks, and values of another JSON type."""
    kind, real_kind = json_kind(documented), json_kind(real)
    if "null" in (kind, real_kind) or documented == ELLIPSIS:
        return []
    if kind != real_kind:
        return [f"{where}: documented as {kind}, is {real_kind}"]
    problems: list[str] = []
    if isinstance(documented, dict) and isinstance(real, dict):
        for key, value in documented.items():
            if key == ELLIPSIS:
                continue
            if key not in real:
                problems.append(f"{where}.{key}: documented, not in the real output")
            else:
                problems.extend(_missing(value, real[key], f"{where}.{key}"))
    elif isinstance(documented, list) and isinstance(real, list):
        items = [item for item in documented if item != ELLIPSIS]
        if any(isinstance(item, dict) for item in items) and any(isinstance(item, dict) for item in real):
            problems.extend(_missing(_merged(items), _merged(real), f"{where}[]"))
        elif items and real:
            problems.extend(_missing(items[0], real[0], f"{where}[]"))
    return problems


def _undocumented(documented: object, real: object, where: str) -> list[str]:
    """Fields the real document always has that the example leaves out (without a ``"…"`` key)."""
    problems: list[str] = []
    if isinstance(documented, dict) and isinstance(real, dict):
        for key, value in real.items():
            if key in documented:
                problems.extend(_undocumented(documented[key], value, f"{where}.{key}"))
            elif ELLIPSIS not in documented:
                problems.append(f"{where}.{key}: in the real output, not documented")
    elif isinstance(documented, list) and isinstance(real, list):
        items = [item for item in documented if item != ELLIPSIS]
        if any(isinstance(item, dict) for item in items) and any(isinstance(item, dict) for item in real):
            problems.extend(_undocumented(_merged(items), _merged(real, common=True), f"{where}[]"))
    return problems


def shape_differences(documented: object, real: object) -> list[str]:
    """Where a documented JSON example's shape differs from a real document: a documented field the real
    one lacks, a field the real one always has that the example leaves out (an object with a ``"…"`` key
    means "more fields"), or a value of another JSON type (``null`` on either side matches anything;
    ``"…"`` stands for any value or, as an array item, for more items). The items of an array are
    compared merged: a documented field must be in some real item, a field every real item has must be
    in some documented item."""
    return sorted(set(_missing(documented, real, "$")) | set(_undocumented(documented, real, "$")))


# --- Python examples -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PythonLine:
    """A line of a Python example: its code, and the sign its comment claims (``# > 0``, ``# < 0``,
    ``# == 0``) or None."""

    line: int
    code: str
    claim: str | None


def python_lines(block: Block) -> list[PythonLine]:
    lines: list[PythonLine] = []
    for number, raw in enumerate(block.text.split("\n"), start=block.line + 1):
        code, _, comment = raw.partition("#")
        if not code.strip():
            continue
        claim = re.match(r"\s*(>|<|==)\s*0\b", comment)
        lines.append(PythonLine(number, code.rstrip(), claim.group(1) if claim else None))
    return lines


# --- the reports commands write (docs/output-formats.md, packages.md) -----------------------------

PROJECT = Path(__file__).resolve().parents[2]


def output_problem(command: str, fmt: str, text: str) -> str | None:
    import jsonschema

    if fmt in ("json", "sarif", "spdx", "cyclonedx"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            return f"the {fmt} output is not JSON ({error})"
        schema = {
            "sarif": (jsonschema.Draft7Validator, PROJECT / "tests/schemas/sarif-schema-2.1.0.json"),
            "spdx": (jsonschema.Draft201909Validator, PROJECT / "tests/schemas/spdx-schema-2.3.json"),
        }.get(fmt)
        if fmt == "json" and isinstance(document, dict) and document.get("schema") == "imagevet/audit/v1":
            schema = (jsonschema.Draft7Validator, PROJECT / "docs/schemas/audit-v1.schema.json")
        if schema is not None:
            errors = list(schema[0](json.loads(schema[1].read_text())).iter_errors(document))
            if errors:
                return f"the {fmt} output does not validate against {schema[1].name}: {errors[0].message}"
        if fmt == "cyclonedx" and document.get("bomFormat") != "CycloneDX":
            return "the cyclonedx output is not a CycloneDX BOM"
    elif fmt == "junit":
        import xml.etree.ElementTree as ET

        if ET.fromstring(text).tag not in ("testsuites", "testsuite"):
            return "the junit output is not a JUnit report"
    elif fmt == "html":
        if "<html" not in text or re.search(
            r"""<(script|img|link|iframe)[^>]+(src|href)=["']?(https?:)?//""", text
        ):
            return "the html output is not one self-contained page"
    elif (
        fmt == "table"
        and command == "audit"
        and not re.search(r"^gate: (passed|FAILED|off) \(--fail-on", text, re.M)
    ):
        return "the table has no `gate:` line"
    return None


# --- the command line the docs name ------------------------------------------------------------------


def cli() -> Any:
    """The command tree as `imagevet` runs it (with the options every command shares)."""
    import imagevet.cli

    return imagevet.cli.build_command()


def option_names(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(name for name in [*param.opts, *param.secondary_opts] if name.startswith("-"))
    return names


def resolve(words: list[str]) -> tuple[list[tuple[str, Any]], list[str], list[str]]:
    """The commands ``imagevet WORDS`` names (``a|b`` alternatives name several), the words after them,
    and what does not exist: a subcommand, or an option of the command(s)."""
    nodes: list[tuple[str, Any]] = [("imagevet", cli())]
    rest, problems = list(words), []
    while rest and not rest[0].startswith(("-", "[")) and all(hasattr(n, "commands") for _, n in nodes):
        name = rest.pop(0)
        found = []
        for path, node in nodes:
            for alternative in name.split("|"):
                if alternative in node.commands:
                    found.append((f"{path} {alternative}", node.commands[alternative]))
                else:
                    problems.append(f"`{path}` has no subcommand {alternative!r}")
        nodes = found
    for word in rest:
        option = re.sub(r"[\]…]+$|=.*$", "", word.lstrip("["))
        if re.fullmatch(r"--?[A-Za-z][\w-]*", option):
            problems.extend(
                f"`{path}` has no option {option}" for path, n in nodes if option not in option_names(n)
            )
    return nodes, rest, problems


def complete(nodes: list[tuple[str, Any]], rest: list[str]) -> bool:
    """Whether words name one command with everything it needs (an example, not a reference to it): its
    required arguments, or, named alone, a command that takes no argument and needs no option."""
    if len(nodes) != 1 or hasattr(nodes[0][1], "commands"):
        return False
    command = nodes[0][1]
    if not rest:
        arguments = [p for p in command.params if type(p).__name__.endswith("Argument")]
        return not arguments and not any(p.required for p in command.params)
    flags = {name for p in command.params if getattr(p, "is_flag", False) for name in p.opts}
    positional, words = 0, list(rest)
    while words:
        word = words.pop(0)
        if word.startswith("-"):
            if word not in flags and words:
                words.pop(0)
        else:
            positional += 1
    required = [p for p in command.params if type(p).__name__.endswith("Argument") and p.required]
    return positional >= len(required)


# --- commands that are not imagevet -----------------------------------------------------------------


def check_pip(command: Command, words: list[str]) -> None:
    """`pip install 'imagevet[X]'  # or A, B`: the extras exist, and what they need is installed here."""
    extras = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    match = re.fullmatch(r"imagevet\[([\w,-]+)\]", words[-1]) if words[1:2] == ["install"] else None
    if match is None:
        raise Problem(f"{command.id}: only `pip install 'imagevet[EXTRA]'` is known here")
    named = match.group(1).split(",")
    alternatives = re.match(r"or ([\w, -]+)", command.comment)
    if alternatives:
        named += [name for name in re.split(r"[,\s]+", alternatives.group(1).strip()) if name]
    for name in named:
        if name not in extras:
            raise Problem(f"{command.id}: pyproject.toml has no extra {name!r}")
        for requirement in extras[name]:
            distribution = re.split(r"[\[<>=~! ]", requirement, maxsplit=1)[0]
            try:
                metadata.version(distribution)
            except metadata.PackageNotFoundError:
                raise Problem(f"{command.id}: {distribution} (extra {name}) is not installed") from None


def check_shell_script(command: Command, script: Path) -> None:
    if not script.is_file():
        raise Problem(f"{command.id}: no script {script}")
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise Problem(f"{command.id}: bash -n {script.name}: {checked.stderr}")
