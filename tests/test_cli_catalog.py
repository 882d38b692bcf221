"""`imagevet lifecycle`, `recommend` and `catalog` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from imagevet.catalog.loader import bundled_catalog
from tests.conftest import AS_OF_DATE, AS_OF_DAY, FIXTURES
from tests.support.cli import imagevet_env, run_imagevet
from tests.support.http_server import serve

ENDOFLIFE = FIXTURES / "endoflife"


def run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with this environment less IMAGEVET_EOL_URL, with NO_COLOR and ``data_dir`` (when given) as
    its data directory."""
    extra = {} if data_dir is None else {"IMAGEVET_DATA_DIR": str(data_dir)}
    return run_imagevet(*args, env=imagevet_env(drop=("IMAGEVET_EOL_URL",), keep=(), **extra))


def test_lifecycle_json_and_filter(tmp_path: Path) -> None:
    proc = run("lifecycle", "ubuntu", "--as-of", AS_OF_DATE, "-f", "json", data_dir=tmp_path)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "imagevet/lifecycle/v1" and doc["as_of"] == AS_OF_DATE
    rows = {r["release"]: r for r in doc["releases"]}
    assert set(rows) == {f"ubuntu-{v}" for v in ("18.04", "20.04", "22.04", "24.04", "25.10", "26.04")}
    jammy = bundled_catalog().release("ubuntu-22.04")
    assert jammy is not None and jammy.eol is not None
    left = (jammy.eol - AS_OF_DAY).days
    assert (rows["ubuntu-22.04"]["status"], rows["ubuntu-22.04"]["days_left"]) == ("supported", left)
    assert [t["tier"] for t in rows["ubuntu-22.04"]["tiers"]] == ["standard", "esm", "legacy"]
    assert all(t["source"].startswith("https://") for t in rows["ubuntu-22.04"]["tiers"])
    assert rows["ubuntu-20.04"]["status"] == "extended-only"
    assert {"release", "distro", "version", "lts", "status", "eol", "extended_eol", "days_left"} <= set(
        rows["ubuntu-24.04"]
    )
    centos = json.loads(run("lifecycle", "centos", "-f", "json", data_dir=tmp_path).stdout)
    assert {r["release"] for r in centos["releases"]} >= {"centos-7", "centos-stream-9"}
    assert run("lifecycle", "rhel-9", data_dir=tmp_path).stdout.count("rhel-9") == 1
    proc = run("lifecycle", "plan9", data_dir=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("imagevet: error: no release matches")


def test_recommend_json_shape(tmp_path: Path) -> None:
    proc = run(
        "recommend",
        "--scenario",
        "java-microservice",
        "--cloud",
        "aws",
        "--as-of",
        AS_OF_DATE,
        "--compliance",
        "pci-dss",
        "-f",
        "json",
        data_dir=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "imagevet/recommend/v1"
    assert doc["query"]["compliance"] == ["pci-dss"] and doc["query"]["cloud"] == "aws"
    first = doc["candidates"][0]
    assert {
        "rank",
        "release",
        "distro",
        "version",
        "cloud",
        "offering",
        "score",
        "eol",
        "extended_eol",
        "reasons",
        "warnings",
        "lookup",
    } <= set(first)
    assert first["rank"] == 1 and first["cloud"] == "aws"
    assert first["lookup"]["aws"]["publisher_ids"] and first["lookup"]["aws"]["command"].startswith("aws ")
    assert any(r["release"] == "centos-7" for r in doc["rejected"])


def test_recommend_markdown_is_a_table(tmp_path: Path) -> None:
    proc = run("recommend", "-s", "web-api", "-c", "gcp", "-f", "markdown", data_dir=tmp_path)
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| rank |"))
    assert lines[header + 1].startswith("|---|")
    assert all(line.count(" | ") >= 6 for line in lines[header + 2 : header + 7])
    assert "gcloud compute images describe-from-family" in proc.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["recommend", "-s", "gaming"], "choose from: web-api, java-microservice"),
        (["recommend", "-s", "web-api", "-c", "oracle"], "choose from: aws, azure, alibaba, tencent, gcp"),
        (["recommend", "-s", "web-api", "--compliance", "sox"], "choose from: fips, cis-l1"),
        (["recommend"], "--scenario"),
        (["recommend", "-s", "web-api", "--as-of", "tomorrow"], "YYYY-MM-DD"),
    ],
)
def test_recommend_bad_input(args: list[str], fragment: str, tmp_path: Path) -> None:
    proc = run(*args, data_dir=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr


def test_no_candidate_exits_1(tmp_path: Path) -> None:
    proc = run("recommend", "-s", "web-api", "-c", "tencent", "--as-of", "2040-01-01", data_dir=tmp_path)
    assert proc.returncode == 1 and "no release passes the gates" in proc.stderr


def test_catalog_update_from_a_local_server(tmp_path: Path) -> None:
    with serve(ENDOFLIFE) as url:
        proc = run("catalog", "update", "--base-url", url, data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    override = yaml.safe_load((tmp_path / "lifecycle-overrides.yaml").read_text())
    assert override["source"] == url
    assert override["releases"]["ubuntu-24.04"]["eol"] == "2029-06-30"
    assert override["releases"]["debian-12"]["eol"] == "2028-06-30"  # Debian's LTS end, from extendedSupport
    assert "ubuntu-25.10" in override["releases"]  # the catalog knows the interim release
    known = {r.release for r in bundled_catalog().releases}
    assert all(key in known for key in override["releases"])  # never a release it does not list
    doc = json.loads(run("lifecycle", "ubuntu-24.04", "-f", "json", data_dir=tmp_path).stdout)
    assert doc["releases"][0]["eol"] == "2029-06-30"  # the override is used
    show = run("catalog", "show", data_dir=tmp_path)
    assert f"override: {tmp_path / 'lifecycle-overrides.yaml'}" in show.stdout and url in show.stdout


@pytest.mark.parametrize("fault", ["drop", "corrupt", "500"])
def test_failed_update_changes_nothing(tmp_path: Path, fault: str) -> None:
    with serve(ENDOFLIFE) as url:
        assert run("catalog", "update", "--base-url", url, data_dir=tmp_path).returncode == 0
    before = (tmp_path / "lifecycle-overrides.yaml").read_bytes()
    with serve(ENDOFLIFE, {"rhel.json": fault}) as url:
        proc = run("catalog", "update", "--base-url", url, data_dir=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("imagevet: error:") and "rhel.json" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "lifecycle-overrides.yaml").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lifecycle-overrides.yaml"]


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    proc = run(
        "catalog", "update", "--base-url", "http://127.0.0.1:9/api", "--timeout", "2", data_dir=tmp_path
    )
    assert proc.returncode == 2 and "127.0.0.1:9" in proc.stderr
    assert not (tmp_path / "lifecycle-overrides.yaml").exists()


def test_audit_reads_the_catalog_override(tmp_path: Path) -> None:
    (tmp_path / "lifecycle-overrides.yaml").write_text("releases:\n  debian-12: {eol: 2026-01-01}\n")
    proc = run(
        "audit",
        str(FIXTURES / "rootfs/hardened-debian"),
        "--as-of",
        AS_OF_DATE,
        "-f",
        "json",
        "--checks",
        "os-supported",
        data_dir=tmp_path,
    )
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == "fail" and "2026-01-01" in result["evidence"][0]["detail"]


GOOD_IMAGES = (
    "source: test\nclouds:\n  aws:\n    region: us-east-1\n    checked: '2026-12-02T10:00:00Z'\n"
    "    images:\n      ubuntu-24.04: {status: found, id: ami-0123456789abcdef0, region: us-east-1,\n"
    "                     checked: '2026-12-02T10:00:00Z', via: ssm}\n    new: []\n"
)


@pytest.mark.parametrize(
    "text",
    [
        GOOD_IMAGES[: GOOD_IMAGES.index("checked: '2026-12-02T10:00:00Z', via")]
        + "checked: '2026-1",  # truncated
        GOOD_IMAGES.replace("id: ami-0123456789abcdef0", "id: [1, 2]"),  # wrong type
        GOOD_IMAGES.replace("status: found", "status: 7"),
        GOOD_IMAGES.replace("region: us-east-1\n    checked", "region: {a: 1}\n    checked"),
        "clouds:\n" + "  x" * 3_000_000,  # huge
        "clouds: " + "[" * 5000 + "]" * 5000 + "\n",  # deep
        "\xff\xfe garbage",
    ],
    ids=["truncated", "id-list", "status-number", "region-mapping", "huge", "deep", "binary"],
)
def test_hostile_image_override_is_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "image-overrides.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe garbage" else b"\xff\xfe x")
    for args in (
        ["catalog", "show"],
        ["catalog", "images", "-c", "aws", "-f", "json"],
        ["recommend", "-s", "web-api", "-c", "aws", "-f", "json"],
        ["catalog", "update", "--from-cloud", "aws", "--region", "us-east-1"],
    ):
        proc = run(*args, data_dir=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith(f"imagevet: error: {path}") and proc.stderr.count("\n") == 1, (
            proc.stderr
        )
        assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image-overrides.yaml"]


def test_image_override_shown(tmp_path: Path) -> None:
    (tmp_path / "image-overrides.yaml").write_text(GOOD_IMAGES)
    show = run("catalog", "show", data_dir=tmp_path)
    assert show.returncode == 0, show.stderr
    assert "  aws (us-east-1, checked 2026-12-02T10:00:00Z, " in show.stdout
    assert ": 1 found, 0 missing, 0 skipped, 0 new releases" in show.stdout
    doc = json.loads(
        run("catalog", "images", "--release", "ubuntu-24.04", "-f", "json", data_dir=tmp_path).stdout
    )
    aws = next(i for i in doc["images"] if i["cloud"] == "aws" and i["image"] == "ubuntu-24.04")
    assert aws["lookup"]["latest"] == {
        "status": "found", "region": "us-east-1", "checked": "2026-12-02T10:00:00Z",
        "id": "ami-0123456789abcdef0", "via": "ssm",
    }  # fmt: skip
    assert all("latest" not in i["lookup"] for i in doc["images"] if i["cloud"] != "aws")


@pytest.mark.parametrize("kind", ["endless", "binary"])
def test_a_lifecycle_override_that_never_ends_or_is_not_text_is_one_line(tmp_path: Path, kind: str) -> None:
    """The override is read capped like every user file: a link to /dev/zero is refused, not read until
    memory runs out."""
    path = tmp_path / "lifecycle-overrides.yaml"
    if kind == "endless":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b"releases:\n  \xff\xfe: x\n")
    for args in (["catalog", "show"], ["lifecycle", "ubuntu"], ["recommend", "-s", "web-api"]):
        proc = run(*args, data_dir=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith(f"imagevet: error: {path}") and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr
