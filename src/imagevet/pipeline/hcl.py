"""HCL as Packer reads it: values, blocks and variable declarations, written from Python data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def hcl_value(value: Any) -> str:
    """An HCL value: expressions as written; strings, numbers and booleans as JSON (which HCL2 reads);
    lists element by element."""
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(item) for item in value) + "]"
    return json.dumps(value)


def hcl_block(kind: str, labels: list[str], body: list[tuple[str, Any]], indent: int = 0) -> str:
    pad = " " * indent
    head = " ".join([kind, *(hcl_value(label) for label in labels)])
    width = max((len(key) for key, _ in body if not key.startswith("#")), default=0)
    lines = [f"{pad}{head} {{"]
    for key, value in body:
        if key.startswith("#block"):
            lines.append(value)
        else:
            lines.append(f"{pad}  {key.ljust(width)} = {hcl_value(value)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Expression:
    text: str


def hcl_variables(names: dict[str, Any]) -> str:
    blocks = []
    for name, default in names.items():
        body: list[tuple[str, Any]] = [("type", Expression("string"))]
        if default is not None:
            body.append(("default", default))
        blocks.append(hcl_block("variable", [name], body))
    return "\n\n".join(blocks)
