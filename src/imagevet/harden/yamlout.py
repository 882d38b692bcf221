"""YAML for people: multi-line strings (file contents) as literal blocks, keys in the order given."""

from __future__ import annotations

from typing import Any

import yaml


class _LiteralDumper(yaml.SafeDumper):
    pass


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _string)


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False, width=1000)
