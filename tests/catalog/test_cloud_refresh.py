"""`imagevet catalog update --from-cloud aws` end to end against a real moto server (tests/support/moto.py)
seeded from the catalog itself: the public SSM parameters each image looks up and AMIs registered under
the publishers' owner ids (AMI names made from the catalog's own patterns)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from imagevet.catalog import cloud_refresh, image_overrides
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Offering
from imagevet.errors import DataError
from tests.support.cli import imagevet_env, run_imagevet
from tests.support.moto import aws_environment, start_moto

CATALOG = bundled_catalog()
AWS = CATALOG.clouds["aws"].offerings
GONE = "rhel-9-sap"  # registered nowhere: its lookup returns nothing
NEW_UBUNTU = "/aws/service/canonical/ubuntu/server/26.10/stable/current/amd64/hvm/ebs-gp3/ami-id"
NEW_AMAZON = "/aws/service/ami-amazon-linux-latest/al2029-ami-kernel-default-x86_64"


def _name(pattern: str, stamp: str) -> str:
    return pattern.replace("*", stamp).replace("?", "1")


def _ami(image_id: str, name: str, owner: str, created: str) -> dict[str, Any]:
    return {
        "ami_id": image_id, "name": name, "description": name, "owner_id": owner, "public": True,
        "virtualization_type": "hvm", "architecture": "x86_64", "state": "available",
        "root_device_type": "ebs", "creation_date": created,
    }  # fmt: skip


def _owner(offering: Offering) -> str:
    return offering.lookup.get("owner", offering.publisher.ids[0])


def expected_ids() -> dict[str, str]:
    """The AMI id each resolvable catalog image must get (the newer of two for name patterns)."""
    return {o.image: f"ami-{index:017x}" for index, o in enumerate(AWS, start=1) if o.image != GONE}


def seed() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, str]]]]:
    amis: list[dict[str, Any]] = []
    params: list[dict[str, str]] = []
    wanted = expected_ids()
    for offering in AWS:
        if offering.image not in wanted or any("<" in v for v in offering.lookup.values()):
            continue
        newest = wanted[offering.image]
        pattern = offering.lookup.get("name", f"{offering.image}-*")
        owner = _owner(offering) if _owner(offering).isdigit() else "137112412989"
        amis.append(_ami(newest, _name(pattern, "20261101"), owner, "2026-11-01T00:00:00.000Z"))
        if "ssm" in offering.lookup:
            params.append({"Name": offering.lookup["ssm"], "Value": newest})
        else:  # an older build of the same name pattern: the newest CreationDate wins
            older = "ami-9" + newest[5:]
            amis.append(_ami(older, _name(pattern, "20260101"), owner, "2026-01-01T00:00:00.000Z"))
    params += [
        {"Name": NEW_UBUNTU, "Value": "ami-0000000000000aaaa"},
        {"Name": NEW_UBUNTU.replace("26.10", "questing").replace("ebs-gp3", "ebs-gp2"), "Value": "ami-1"},
        {"Name": NEW_UBUNTU.replace("26.10", "noble"), "Value": "ami-2"},  # 24.04 by its codename: known
        {"Name": NEW_UBUNTU.replace("current", "20261101"), "Value": "ami-3"},  # a dated build: not a release
        {"Name": NEW_AMAZON, "Value": "ami-0000000000000bbbb"},
        {"Name": NEW_AMAZON.replace("x86_64", "arm64"), "Value": "ami-0000000000000cccc"},
    ]
    return amis, {"us-east-1": params}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    amis, params = seed()
    with start_moto(tmp_path_factory.mktemp("moto-catalog"), amis, params) as endpoint:
        yield endpoint


def run(data: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """This machine's AWS_* and IMAGEVET_* variables dropped: only ``env`` says where AWS is."""
    variables = imagevet_env(drop=("AWS_", "IMAGEVET_"), keep=(), **env, IMAGEVET_DATA_DIR=str(data))
    return run_imagevet(*args, env=variables, timeout=120)


def refresh(data: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run(data, env, "catalog", "update", "--from-cloud", "aws", *extra)


def test_ids_recorded_missing_named_new_reported(seeded: str, tmp_path: Path) -> None:
    env = aws_environment(seeded, tmp_path)
    proc = refresh(tmp_path / "data", env, "--region", "us-east-1")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        f"missing: aws/{GONE}: no AMI named RHEL-SAP-9.*_HVM*-x86_64-* owned by 309956199498" in proc.stderr
    )
    assert proc.stderr.strip().splitlines()[-1].endswith(f"1 lookups returned nothing: {GONE}")
    document = yaml.safe_load((tmp_path / "data" / "image-overrides.yaml").read_text())
    aws = document["clouds"]["aws"]
    assert aws["region"] == "us-east-1"
    facts = aws["images"]
    for image, ami in expected_ids().items():
        if facts[image]["status"] == "skipped":
            assert "<k8s-version>" in facts[image]["reason"]
            continue
        assert (image, facts[image]["status"], facts[image]["id"]) == (image, "found", ami)
        assert facts[image]["created"] == "2026-11-01T00:00:00.000Z"
        assert facts[image]["region"] == "us-east-1" and facts[image]["checked"] == aws["checked"]
    assert facts["ubuntu-24.04"]["via"] == "ssm" and facts["ubuntu-24.04"]["owner"] == "099720109477"
    assert facts["rhel-9"]["via"] == "name" and facts["rhel-9"]["name"].startswith("RHEL-9.20261101")
    assert facts[GONE]["status"] == "missing"
    assert {facts[i]["status"] for i in ("eks-al2023-standard", "bottlerocket-k8s")} == {"skipped"}
    new = {n["release"]: n for n in aws["new"]}
    assert new["ubuntu 26.10"] == {
        "release": "ubuntu 26.10",
        "parameter": NEW_UBUNTU,
        "value": "ami-0000000000000aaaa",
    }
    assert "ubuntu 25.10" in new  # the codename questing, told by the catalog's release record
    assert new["amazon-linux al2029-ami-kernel-default"]["parameter"] == NEW_AMAZON
    assert not [r for r in new if r in ("ubuntu 24.04", "ubuntu noble", "ubuntu 20261101")]
    assert "amazon-linux al2023-ami-kernel-default" not in new
    assert "new: ubuntu 26.10" in proc.stderr

    images = json.loads(run(tmp_path / "data", env, "catalog", "images", "-c", "aws", "-f", "json").stdout)
    lookups = {i["image"]: i["lookup"] for i in images["images"]}
    assert lookups["ubuntu-24.04"]["latest"]["id"] == expected_ids()["ubuntu-24.04"]
    assert lookups[GONE]["latest"]["status"] == "missing"
    assert not any(key.startswith("latest_") for key in lookups["ubuntu-24.04"])
    table = run(tmp_path / "data", env, "catalog", "images", "-c", "aws", "--release", "ubuntu-24.04").stdout
    assert f"latest in us-east-1: {expected_ids()['ubuntu-24.04']}" in table
    recommended = run(
        tmp_path / "data",
        env,
        "recommend",
        "-s",
        "web-api",
        "-c",
        "aws",
        "--as-of",
        "2026-12-02",
        "-f",
        "json",
    )
    candidates = json.loads(recommended.stdout)["candidates"]
    latest = [c["lookup"]["aws"]["latest"] for c in candidates if "latest" in c["lookup"]["aws"]]
    assert latest and all(item["region"] == "us-east-1" for item in latest)
    show = run(tmp_path / "data", env, "catalog", "show")
    assert show.returncode == 0, show.stderr
    assert f"image overrides: {tmp_path / 'data' / 'image-overrides.yaml'}" in show.stdout
    assert "  aws (us-east-1, checked " in show.stdout and "0 days ago): " in show.stdout
    assert " 1 missing, " in show.stdout


def test_another_region_has_no_public_parameters(seeded: str, tmp_path: Path) -> None:
    """Public parameters are per region: asked in eu-west-3 the seeded ones are not there, so the name
    pattern answers where there is one, and an image looked up by its parameter alone is missing."""
    proc = refresh(tmp_path, aws_environment(seeded, tmp_path), "--region", "eu-west-3")
    assert proc.returncode == 1
    facts = yaml.safe_load((tmp_path / "image-overrides.yaml").read_text())["clouds"]["aws"]["images"]
    assert (facts["ubuntu-24.04"]["via"], facts["ubuntu-24.04"]["region"]) == ("name", "eu-west-3")
    assert facts["ubuntu-22.04-pro-fips"]["status"] == "missing"
    assert "missing: aws/ubuntu-22.04-pro-fips: SSM parameter /aws/service/marketplace/" in proc.stderr
    assert facts["rhel-9"]["status"] == "found"  # moto's AMIs are in every region


def _unchanged(tmp_path: Path, before: bytes) -> None:
    assert (tmp_path / "image-overrides.yaml").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image-overrides.yaml"]


def test_a_failed_run_leaves_the_old_file(seeded: str, tmp_path: Path) -> None:
    env = aws_environment(seeded, tmp_path / "aws")
    assert refresh(tmp_path / "data", env).returncode == 1
    before = (tmp_path / "data" / "image-overrides.yaml").read_bytes()
    dead = aws_environment("http://127.0.0.1:9", tmp_path / "aws")
    proc = refresh(tmp_path / "data", dead)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("imagevet: error: ssm:GetParameter: cannot reach AWS in us-east-1")
    _unchanged(tmp_path / "data", before)
    no_region = {k: v for k, v in env.items() if k != "AWS_DEFAULT_REGION"}
    proc = refresh(tmp_path / "data", no_region)
    assert proc.returncode == 2 and "no AWS region: give --region" in proc.stderr
    _unchanged(tmp_path / "data", before)


ACTIONS = ("ssm:GetParameter", "ec2:DescribeImages", "ssm:GetParametersByPath")


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """moto enforcing IAM policies: the first calls (creating one user per action, each allowed every
    action but that one) are free, then every call is checked against the caller's policy."""
    amis, params = seed()
    folder = tmp_path_factory.mktemp("moto-iam")
    free = str(3 * len(ACTIONS))
    with start_moto(folder, amis, params, {"INITIAL_NO_AUTH_ACTION_COUNT": free}) as endpoint:
        yield endpoint, {action: _user_without(endpoint, action) for action in ACTIONS}


def _user_without(endpoint: str, action: str) -> dict[str, str]:
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    name = "no-" + action.replace(":", "-")
    iam.create_user(UserName=name)
    allowed = [a for a in ACTIONS if a != action]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="catalog", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_missing_permission_is_one_line_naming_the_action(
    iam_moto: tuple[str, dict[str, dict[str, str]]], tmp_path: Path, action: str
) -> None:
    endpoint, users = iam_moto
    env = {**aws_environment(endpoint, tmp_path / "aws"), **users[action]}
    (tmp_path / "data").mkdir()
    proc = refresh(tmp_path / "data", env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error: AWS denied "), proc.stderr
    assert lines[0].endswith(f"the caller needs the IAM permission {action}")
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize("cloud", ["azure", "gcp", "alibaba", "tencent"])
def test_other_clouds_are_not_supported_yet(cloud: str, tmp_path: Path) -> None:
    proc = run(tmp_path, {}, "catalog", "update", "--from-cloud", cloud)
    assert proc.returncode == 2 and proc.stderr == (
        f"imagevet: error: --from-cloud {cloud} is not supported yet (supported: aws)\n"
    )
    assert run(tmp_path, {}, "catalog", "update", "--region", "us-east-1").returncode == 2
    assert not list(tmp_path.iterdir())


# --- the pure parts ------------------------------------------------------------------------------------


def _facts() -> image_overrides.ImageOverrides:
    fact = image_overrides.ImageFact(
        "ubuntu-24.04",
        "found",
        "us-east-1",
        "2026-12-02T10:00:00Z",
        "ami-0abc",
        "n",
        "2026-11-01",
        "1",
        "ssm",
    )
    cloud = image_overrides.CloudFacts(
        "aws", "us-east-1", "2026-12-02T10:00:00Z", {fact.image: fact},
        (image_overrides.NewRelease("ubuntu 26.10", NEW_UBUNTU, "ami-1"),),
    )  # fmt: skip
    return image_overrides.ImageOverrides("test", {"aws": cloud})


def test_the_file_round_trips_and_applies(tmp_path: Path) -> None:
    path = tmp_path / "image-overrides.yaml"
    image_overrides.write(path, _facts())
    parsed = image_overrides.parse(str(path), path.read_text())
    assert parsed == _facts()
    applied = image_overrides.apply(CATALOG, parsed)
    offering = next(o for o in applied.clouds["aws"].offerings if o.image == "ubuntu-24.04")
    assert offering.lookup["latest_id"] == "ami-0abc" and offering.lookup["ssm"].startswith("/aws/service/")
    assert applied.clouds["azure"] == CATALOG.clouds["azure"]
    merged = cloud_refresh.merged(
        image_overrides.ImageOverrides("x", {"gcp": parsed.clouds["aws"]}), parsed.clouds["aws"]
    )
    assert set(merged.clouds) == {"aws", "gcp"}  # other clouds' facts are kept


def test_an_interrupted_write_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "image-overrides.yaml"
    image_overrides.write(path, _facts())
    before = path.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        args[1].write("clouds:\n  aws:\n")  # part of the document, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(yaml, "safe_dump", broken)  # the real module (image_overrides imports it on use)
    with pytest.raises(OSError):
        image_overrides.write(path, _facts())
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "clouds:\n  aws:\n    region: us-east-1\n    checked: 2026-12-02\n",
            "line 4: clouds.aws.checked must be",
        ),
        (
            "clouds:\n  aws: {region: r, checked: '2026-12-02T10:00:00Z', images: {x: {status: gone}}}\n",
            "line 2: clouds.aws.images.x: needs 'region'",
        ),
        (
            "clouds:\n  aws: {region: [1], checked: '2026-12-02T10:00:00Z'}\n",
            "clouds.aws.region must be a single",
        ),
        ("source: x\n", "line 1: top level must be a mapping with 'clouds'"),
        ("clouds: {}\nextra: 1\n", "line 2: unknown top-level key"),
        (
            "clouds:\n  aws: {region: r, checked: '2026-13-02T10:00:00Z'}\n",
            "clouds.aws.checked is not a real time",
        ),
    ],
)
def test_bad_files_name_the_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(DataError) as caught:
        image_overrides.parse("/d/image-overrides.yaml", text)
    assert str(caught.value).startswith("/d/image-overrides.yaml: ") and problem in str(caught.value)


class Scripted:
    """An AwsApi answering from dictionaries: the resolution rules without a server."""

    region = "eu-west-1"

    def __init__(self, parameters: dict[str, str], images: list[dict[str, Any]]) -> None:
        self.parameters, self.images = parameters, images

    def parameter(self, name: str) -> str | None:
        return self.parameters.get(name)

    def images_named(self, owner: str, pattern: str) -> list[dict[str, Any]]:
        return [i for i in self.images if i["OwnerId"] == owner]

    def image(self, image_id: str) -> dict[str, Any] | None:
        return next((i for i in self.images if i["ImageId"] == image_id), None)

    def parameters_under(self, path: str) -> Iterator[tuple[str, str]]:
        yield from ((k, v) for k, v in self.parameters.items() if k.startswith(path))


def test_resolution_rules() -> None:
    ubuntu = next(o for o in AWS if o.image == "ubuntu-24.04")
    api = Scripted({}, [
        {"ImageId": "ami-old", "OwnerId": "099720109477", "CreationDate": "2026-01-01T00:00:00Z"},
        {"ImageId": "ami-new", "OwnerId": "099720109477", "CreationDate": "2026-11-01T00:00:00Z"},
    ])  # fmt: skip
    fact = cloud_refresh.resolve(ubuntu, api, "2026-12-02T00:00:00Z")  # parameter gone: the name pattern
    assert (fact.status, fact.id, fact.via, fact.region) == ("found", "ami-new", "name", "eu-west-1")
    api = Scripted({ubuntu.lookup["ssm"]: "ami-elsewhere"}, [])
    fact = cloud_refresh.resolve(ubuntu, api, "2026-12-02T00:00:00Z")
    assert (fact.status, fact.id, fact.owner) == (
        "found",
        "ami-elsewhere",
        None,
    ) and "not visible" in fact.reason
    api = Scripted(
        {ubuntu.lookup["ssm"]: "ami-x"}, [{"ImageId": "ami-x", "OwnerId": "666", "CreationDate": ""}]
    )
    assert "owner 666 is not one of the publisher's ids" in cloud_refresh.resolve(ubuntu, api, "t").reason
    fact = cloud_refresh.resolve(ubuntu, Scripted({}, []), "t")
    assert fact.status == "missing" and "SSM parameter /aws/service/canonical" in fact.reason
