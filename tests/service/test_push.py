"""`imagevet push` against a real `imagevet serve` (issue 15, item 10): pushing the same image id twice,
or from several CI jobs at once, never creates two images; `push` has no silent default cloud (an id on
one cloud is not filed under another); a pushed report fills the image's release from its os."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagevet.service import client
from tests.conftest import FIXTURES
from tests.service.http import call
from tests.support.cli import run_imagevet
from tests.support.serve import server

ROOT = FIXTURES / "rootfs/hardened-debian"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    token = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    with server(url, env) as base:
        yield base, token, env


def images(base: str, token: str) -> list[dict[str, Any]]:
    answer = call(base, "GET", "/api/v1/images", token)
    assert answer.status == 200
    listed: list[dict[str, Any]] = answer.json()
    return listed


@pytest.fixture
def packages_report(tmp_path: Path) -> Path:
    """The CLI's own packages report of a fixture root (Debian 12)."""
    path = tmp_path / "packages.json"
    made = run_imagevet("packages", str(ROOT), "-f", "json", "-o", str(path))
    assert made.returncode == 0, made.stderr
    return path


def test_push_needs_a_cloud(service: tuple[str, str, dict[str, str]], packages_report: Path) -> None:
    base, token, env = service
    common = ["push", str(packages_report), "--server", base, "--token", token, "--image-id", "ami-x"]
    missing = run_imagevet(*common, "--register", env=env)
    assert missing.returncode == 2 and missing.stderr.splitlines() == [
        "imagevet: error: Missing option '--cloud'"
    ]
    wrong = run_imagevet(*common, "--register", "--cloud", "mars", env=env)
    assert (
        wrong.returncode == 2
        and len(wrong.stderr.splitlines()) == 1
        and "--cloud must be one of" in wrong.stderr
    )
    assert images(base, token) == []


def test_the_same_image_pushed_twice_is_one_image_with_its_release(
    service: tuple[str, str, dict[str, str]], packages_report: Path
) -> None:
    base, token, env = service
    push = ["push", str(packages_report), "--server", base, "--token", token, "--image-id", "ami-0abc"]
    for _ in range(2):
        pushed = run_imagevet(*push, "--cloud", "aws", "--register", env=env)
        assert pushed.returncode == 0, pushed.stderr
    listed = images(base, token)
    assert [(i["cloud"], i["image_id"], i["release"]) for i in listed] == [("aws", "ami-0abc", "debian-12")]
    assert listed[0]["lifecycle"] in ("supported", "extended-only", "end-of-life")  # known to the catalog
    # The same id under another cloud (the old default, or `audit --push`'s onprem) is refused.
    other = run_imagevet(*push, "--cloud", "onprem", "--register", env=env)
    assert other.returncode == 2 and len(other.stderr.splitlines()) == 1, other.stderr
    assert "ami-0abc is registered on aws, not onprem" in other.stderr
    assert len(images(base, token)) == 1
    history = call(base, "GET", f"/api/v1/images/{listed[0]['id']}/reports", token).json()
    assert len(history) == 2


def test_concurrent_pushes_of_a_new_image_register_it_once(
    service: tuple[str, str, dict[str, str]], packages_report: Path
) -> None:
    """Four CI jobs push the same new image at the same moment: all succeed, one image."""
    base, token, env = service
    args = ["push", str(packages_report), "--server", base, "--token", token, "--image-id", "ami-race",
            "--cloud", "aws", "--register"]  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "imagevet", *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=60), p.communicate()[1]) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert [i["image_id"] for i in images(base, token)] == ["ami-race"]


def test_a_registration_between_the_two_lookups_is_taken_as_found(
    service: tuple[str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other race: a rival registers the image after the push's lookup on its cloud and before the
    lookup on every cloud. Found on the same cloud, it is the image (it once said "registered on aws,
    not aws")."""
    base, token, _ = service
    real_call = client._call
    rivals: list[Any] = []

    def racing(server: str, token_: str, method: str, path: str, body: Any = None) -> Any:
        answer = real_call(server, token_, method, path, body)
        if method == "GET" and "cloud=aws" in path and "ami-between" in path and not rivals:
            body = {"cloud": "aws", "image_id": "ami-between"}
            rivals.append(real_call(server, token_, "POST", "/api/v1/images", body))
        return answer

    monkeypatch.setattr(client, "_call", racing)
    document = json.loads(json.dumps({"schema": "imagevet/audit/v1", "summary": {"pass": 1}}))
    result = client.push(base, token, document, "aws", "ami-between", register=True)
    assert rivals and result["image"] == rivals[0]["id"]
    assert [i["image_id"] for i in images(base, token) if i["image_id"] == "ami-between"] == ["ami-between"]


def test_a_push_that_loses_the_registration_race_uses_the_winners_image(
    service: tuple[str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race forced: between the push's lookup and its registration, a rival push registers the image
    (for real, on the server). The server answers 409; the push takes the rival's image."""
    base, token, _ = service
    real_call = client._call
    rivals: list[Any] = []

    def racing(server: str, token_: str, method: str, path: str, body: Any = None) -> Any:
        if method == "POST" and path == "/api/v1/images" and not rivals:
            rivals.append(real_call(server, token_, method, path, body))  # the rival wins
        return real_call(server, token_, method, path, body)

    monkeypatch.setattr(client, "_call", racing)
    document = json.loads(json.dumps({"schema": "imagevet/audit/v1", "summary": {"pass": 1}}))
    result = client.push(base, token, document, "aws", "ami-raced", register=True)
    assert rivals and result["image"] == rivals[0]["id"]
    assert [i["image_id"] for i in images(base, token)] == ["ami-raced"]
