"""The shape of checks/: predicates read facts only (never the target), modules stay small, and a check
never reaches the image behind the facts' back."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.facts import Facts
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

CHECKS_DIR = Path(__file__).resolve().parents[2] / "src/imagevet/checks"


def test_no_check_module_touches_the_target() -> None:
    offenders = []
    for module in sorted(CHECKS_DIR.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "target":
                offenders.append(f"{module.name}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("imagevet.target"):
                offenders.append(f"{module.name}:{node.lineno} imports {node.module}")
    assert not offenders


def test_no_check_module_is_over_400_lines() -> None:
    assert {m.name for m in CHECKS_DIR.glob("*.py") if len(m.read_text().splitlines()) > 400} == set()


class _Guarded:
    """A target that refuses every read once the facts have been gathered."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.open = True

    def __getattr__(self, name: str) -> Any:
        if not self.open:
            raise AssertionError(f"a check used the target ({name}) after the facts were gathered")
        return getattr(self.inner, name)


@pytest.mark.parametrize("root", ["hardened-debian", "weak-rocky9", "alpine-container"])
def test_checks_run_on_facts_alone(root: str) -> None:
    """Gather every fact first, then close the target: every check must still decide."""
    guarded = _Guarded(RootfsTarget(str(FIXTURES / "rootfs" / root)))
    facts = Facts(guarded)  # type: ignore[arg-type]
    for name in dir(Facts):
        if isinstance(getattr(Facts, name), property | type(Facts.sysctl)):
            getattr(facts, name)
    guarded.open = False
    options = CheckOptions(dt.date(2026, 11, 28), cloud="aws")
    for predicate in CHECKS.values():
        predicate(facts, options)  # raises if it reads the target
