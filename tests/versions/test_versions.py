"""Version ordering: the reference projects' own test tables, and the real tools as differential oracles.

dpkg (`dpkg --compare-versions`) and librpm (`rpm.labelCompare` from Debian's python3-rpm, run by the
system Python) judge thousands of generated pairs with epochs, tildes, carets, letters and digits.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.errors import VersionError
from imagevet.versions import compare
from imagevet.versions.apk import compare_apk, is_valid_apk
from imagevet.versions.rpm import rpmvercmp

SIGN = {"<": -1, "=": 0, ">": 1}
SYSTEM_PYTHON = "/usr/bin/python3"


def rows(path: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line and line[0] != "#"
    ]


def test_dpkg_test_vectors(shared_data: Path) -> None:
    table = rows(shared_data / "versions/dpkg.tsv")
    assert len(table) >= 50
    for left, op, right in table:
        assert compare("deb", left, right) == SIGN[op], (left, op, right)


def test_rpm_test_vectors(shared_data: Path) -> None:
    table = rows(shared_data / "versions/rpm.tsv")
    assert len(table) >= 90
    for left, op, right in table:
        assert rpmvercmp(left, right) == SIGN[op], (left, op, right)


def test_apk_test_vectors(shared_data: Path) -> None:
    table = rows(shared_data / "versions/apk.tsv")
    assert len(table) >= 700
    for left, op, right in table:
        assert compare_apk(left, right) == SIGN[op], (left, op, right)


def test_apk_validity_and_fuzzy(shared_data: Path) -> None:
    for version, expected in rows(shared_data / "versions/apk-validity.tsv"):
        assert is_valid_apk(version) is (expected == "valid"), version
    for left, op, right in rows(shared_data / "versions/apk-fuzzy.tsv"):
        negated, op = op.startswith("!"), op.lstrip("!")
        result = compare_apk(left, right, fuzzy=True)
        holds = {"~": result == 0, "<~": result <= 0, ">~": result >= 0}[op]
        assert holds is not negated, (left, op, right)


def _deb_versions(rng: random.Random, count: int) -> list[str]:
    pieces = [
        "0",
        "1",
        "2",
        "9",
        "10",
        "010",
        "a",
        "b",
        "z",
        "~",
        "~~",
        "+",
        ".",
        "~rc1",
        "+deb12u1",
        "+b1",
        "ubuntu1",
        "~bpo",
    ]
    versions: set[str] = set()
    while len(versions) < count:
        upstream = str(rng.randint(0, 12)) + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        version = upstream
        if rng.random() < 0.6:
            version += (
                "-" + str(rng.randint(0, 3)) + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 2)))
            )
        if rng.random() < 0.3:
            version = f"{rng.randint(0, 2)}:{version}"
        versions.add(version)
    return sorted(versions)


def _pairs(versions: list[str], rng: random.Random, count: int) -> list[tuple[str, str]]:
    pairs = [(rng.choice(versions), rng.choice(versions)) for _ in range(count)]
    return pairs + [(v, v) for v in versions[:50]]


@pytest.mark.real
def test_deb_agrees_with_dpkg() -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    rng = random.Random(20261128)
    pairs = _pairs(_deb_versions(rng, 700), rng, 2000)
    checked = 0
    for a, b in pairs:
        ours = compare("deb", a, b)
        less = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True).returncode == 0
        if less:
            real = -1
        else:
            equal = (
                subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True).returncode
                == 0
            )
            real = 0 if equal else 1
        assert ours == real, (a, b)
        checked += 1
    assert checked >= 2000


def _rpm_versions(rng: random.Random, count: int) -> list[str]:
    pieces = [
        "0",
        "1",
        "2",
        "10",
        "010",
        "a",
        "b",
        "rc",
        "~",
        "~rc1",
        "^",
        "^post1",
        ".",
        "_",
        "+",
        "el9",
        "fc38",
    ]
    versions: set[str] = set()
    while len(versions) < count:
        version = str(rng.randint(0, 12)) + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        release = str(rng.randint(0, 3)) + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 2)))
        if "-" in version + release:
            continue
        epoch = f"{rng.randint(0, 2)}:" if rng.random() < 0.3 else ""
        versions.add(f"{epoch}{version}-{release}")
    return sorted(versions)


@pytest.mark.real
def test_rpm_agrees_with_librpm() -> None:
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import rpm"]).returncode:
        pytest.skip("python3-rpm (librpm's Python binding) is not installed")
    rng = random.Random(4096)
    pairs = _pairs(_rpm_versions(rng, 800), rng, 3000)
    script = (
        "import json, sys, rpm\n"
        "def evr(s):\n"
        "    e, _, rest = s.rpartition(':')\n"
        "    v, _, r = rest.rpartition('-')\n"
        "    return (e or None, v, r)\n"
        "print(json.dumps([rpm.labelCompare(evr(a), evr(b)) for a, b in json.load(sys.stdin)]))\n"
    )
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-c", script], input=json.dumps(pairs), capture_output=True, text=True, check=True
    )
    real = json.loads(proc.stdout)
    assert len(real) == len(pairs) >= 3000
    mismatches = [(a, b, r) for (a, b), r in zip(pairs, real, strict=True) if compare("rpm", a, b) != r]
    assert not mismatches, mismatches[:10]


@pytest.mark.parametrize(
    ("scheme", "bad"),
    [
        ("deb", ""),
        ("deb", "1 2"),
        ("deb", "a:1"),
        ("deb", ":1"),
        ("deb", "1.0-"),
        ("deb", "5.2@3-2"),
        ("rpm", ""),
        ("rpm", "x:1"),
        ("apk", "0.1a1"),
        ("apk", "-r1"),
        ("apk", ""),
    ],
)
def test_invalid_versions_raise(scheme: str, bad: str) -> None:
    with pytest.raises(VersionError):
        compare(scheme, bad, "1")


def test_unknown_scheme() -> None:
    with pytest.raises(VersionError, match="choose from: deb, rpm, apk"):
        compare("pep440", "1", "2")


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's verrevcmp (lib/dpkg/version.c) as its loop reads, character by character: the reference
    the key-based comparison must agree with."""

    def order(ch: str) -> int:
        if ch.isdigit():
            return 0
        if ch.isalpha():
            return ord(ch)
        if ch == "~":
            return -1
        return ord(ch) + 256 if ch else 0

    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = order(a[i]) if i < len(a) else 0
            bc = order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def test_deb_part_order_is_dpkgs_verrevcmp() -> None:
    """The one-string key of a version part (versions/deb.py) orders 100,000 random parts of dpkg's
    alphabet (runs of ~, letters, symbols, digits with leading zeros, long numbers) as verrevcmp does."""
    import random

    from imagevet.versions.deb import _part_key

    rng = random.Random(19)
    pieces = [
        "~",
        "~~",
        "a",
        "Z",
        ".",
        "+",
        "-",
        ":",
        "0",
        "00",
        "1",
        "9",
        "10",
        "007",
        "12345678901234567890",
    ]
    for _ in range(100_000):
        a = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        b = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        expected = (_verrevcmp(a, b) > 0) - (_verrevcmp(a, b) < 0)
        got = (_part_key(a) > _part_key(b)) - (_part_key(a) < _part_key(b))
        assert got == expected, (a, b)
