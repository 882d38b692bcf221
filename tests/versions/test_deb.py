"""Debian version ordering: dpkg's own test vectors, and dpkg itself as the oracle."""

from __future__ import annotations

import itertools
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.errors import VersionError
from imagevet.versions.deb import compare_deb

OPS = {"<": lambda c: c < 0, "=": lambda c: c == 0, ">": lambda c: c > 0}


def test_dpkg_test_vectors(shared_data: Path) -> None:
    rows = [line.split("\t") for line in (shared_data / "versions/dpkg.tsv").read_text().splitlines()]
    rows = [r for r in rows if len(r) == 3 and not r[0].startswith("#")]
    assert len(rows) >= 50
    for left, op, right in rows:
        assert OPS[op](compare_deb(left, right)), (left, op, right)


@pytest.mark.real
def test_agrees_with_dpkg_compare_versions() -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    rng = random.Random(20261128)
    atoms = [
        "0",
        "1",
        "2",
        "10",
        "a",
        "b",
        "~",
        "~~",
        "+",
        ".",
        "~rc1",
        "+deb12u1",
        "-1",
        "-0ubuntu1",
        "1:",
        "2:",
    ]
    versions = set()
    while len(versions) < 60:
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 5)))
        text = "1" + text.lstrip(":") if not text[0].isdigit() else text
        if text.count(":") > 1 or text.endswith(("-", ":")) or ":-" in text or "--" in text:
            continue
        versions.add(text)
    ordered = sorted(versions)
    compared = 0
    for a, b in itertools.pairwise(ordered):
        try:
            ours = compare_deb(a, b)
        except VersionError:
            continue
        compared += 1
        lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True).returncode == 0
        eq = subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True).returncode == 0
        assert (ours < 0, ours == 0) == (lt, eq), (a, b)
    assert compared >= 40


@pytest.mark.parametrize("bad", ["", "1 2", "a:1", ":1"])
def test_invalid_versions_raise(bad: str) -> None:
    with pytest.raises(VersionError):
        compare_deb(bad, "1")
