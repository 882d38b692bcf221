"""`imagevet pipeline init`: every generated HCL file parses with python-hcl2, and Debian's Packer
(1.6.6, builders built in) validates every layer's template, without the plugins file, for all five
clouds; the workflow has the base/middleware/app cadence."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from tests.conftest import AS_OF_DATE
from tests.support.cli import run_imagevet

BASES = {"aws": "ubuntu-22.04", "azure": "rhel-9", "gcp": "debian-13", "alibaba": "ubuntu-22.04",
         "tencent": "ubuntu-22.04"}  # fmt: skip
# What validation needs that a real run would take from the environment (no API is called).
VARIABLES = {"azure": ["subscription_id=00000000-0000-0000-0000-000000000000", "source_image=golden-base-1"],
             "gcp": ["project_id=my-project"], "alibaba": ["source_image=m-0123456789"],
             "tencent": ["source_image=img-01234567"]}  # fmt: skip
CREDENTIALS = {"ALICLOUD_ACCESS_KEY": "a", "ALICLOUD_SECRET_KEY": "b", "TENCENTCLOUD_SECRET_ID": "a",
               "TENCENTCLOUD_SECRET_KEY": "b"}  # fmt: skip


def unquoted(value: Any) -> Any:
    """python-hcl2 8 returns strings and block labels with their quotes; strip them for comparisons."""
    if isinstance(value, dict):
        return {unquoted(k): unquoted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unquoted(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def packer() -> str:
    found = shutil.which("packer")
    if found is None:
        pytest.skip("packer (Debian package) is not installed")
    return found


@pytest.mark.parametrize("cloud", sorted(BASES))
def test_every_layer_parses_and_validates(cloud: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    made = run_imagevet("pipeline", "init", "--cloud", cloud, "--base", BASES[cloud], "-o", str(project))
    assert made.returncode == 0, made.stderr
    layers = sorted(p.name for p in (project / "layers").iterdir())
    assert layers == ["app", "base", "middleware-jdk21"]
    for hcl_file in project.rglob("*.pkr.hcl"):
        with hcl_file.open() as handle:
            parsed = hcl2.load(handle)
        if hcl_file.name == "plugins.pkr.hcl":
            assert parsed["packer"][0]["required_plugins"]
    for layer in layers:
        directory = tmp_path / "validate" / layer  # the layer without plugins.pkr.hcl (Packer 1.6.6)
        directory.mkdir(parents=True)
        for item in (project / "layers" / layer).iterdir():
            if item.name != "plugins.pkr.hcl":
                shutil.copy(item, directory / item.name)
        names = [
            f"-var={v}"
            for v in VARIABLES.get(cloud, [])
            if layer != "base" or not v.startswith("source_image")
        ]
        if cloud == "alibaba" and layer == "base":
            names.append("-var=source_image=m-0123456789")
        proc = subprocess.run(
            [packer(), "validate", *names, "."], cwd=directory, capture_output=True, text=True, timeout=120,
            env={**os.environ, **CREDENTIALS},
        )  # fmt: skip
        assert proc.returncode == 0, f"{cloud}/{layer}: {proc.stdout}{proc.stderr}"


def test_base_pins_the_publisher_and_layers_chain(tmp_path: Path) -> None:
    project = tmp_path / "p"
    assert (
        run_imagevet(
            "pipeline", "init", "--cloud", "aws", "--base", "ubuntu-22.04", "-o", str(project)
        ).returncode
        == 0
    )
    base = hcl2.loads((project / "layers/base/base.pkr.hcl").read_text())
    source = unquoted(base)["source"][0]["amazon-ebs"]["base"]  # python-hcl2 8 keeps string quotes
    assert "099720109477" in source["source_ami_filter"][0]["owners"]
    middleware = hcl2.loads((project / "layers/middleware-jdk21/middleware-jdk21.pkr.hcl").read_text())
    chained = unquoted(middleware)["source"][0]["amazon-ebs"]["middleware"]["source_ami_filter"][0]
    assert chained["owners"] == ["self"] and chained["filters"]["name"] == "golden-base-*"
    provision = (project / "layers/middleware-jdk21/provision.sh").read_text()
    assert (
        "openjdk-21-jre-headless" in provision
        and "imagevet audit / --profile cis-l1 --fail-on high" in provision
    )
    workflow = yaml.safe_load((project / ".github/workflows/golden-images.yml").read_text())
    crons = [entry["cron"] for entry in workflow["on"]["schedule"]]  # written quoted, so YAML 1.1 keeps "on"
    assert crons == ["0 3 1 * *", "0 4 1 1,4,7,10 *"] and "push" in workflow["on"]
    assert workflow["jobs"]["app"]["needs"] == "middleware-jdk21"
    assert all("imagevet attest" in str(job["steps"]) for job in workflow["jobs"].values())


def test_bad_input(tmp_path: Path) -> None:
    cases = [
        (["--cloud", "aws", "--base", "ubuntu-9.04"], "not offered officially"),
        (["--cloud", "mars", "--base", "ubuntu-22.04"], "unknown cloud"),
        (["--cloud", "aws", "--base", "ubuntu-22.04", "--layers", "app"], "must start with base"),
        (
            ["--cloud", "aws", "--base", "ubuntu-22.04", "--layers", "base,middleware:cobol"],
            "middleware:cobol",
        ),
    ]
    cases += [
        (["--cloud", "aws", "--base", "ubuntu-20.04"], "ubuntu-20.04 is past its free security support"),
        (["--cloud", "gcp", "--base", "centos-stream-9"], "not a long-term-support release"),
        (["--cloud", "gcp", "--base", "debian-12"],  # the default layers ask for jdk21
         "middleware:jdk21 is not packaged for debian-12 (choose from: jdk17, python3, nodejs, nginx)"),
    ]  # fmt: skip
    for args, message in cases:
        proc = run_imagevet("pipeline", "init", *args, "--as-of", AS_OF_DATE, "-o", str(tmp_path / "x"))
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep.txt").write_text("mine")
    proc = run_imagevet(
        "pipeline", "init", "--cloud", "aws", "--base", "ubuntu-22.04", "-o", str(tmp_path / "full")
    )
    assert proc.returncode == 2 and (tmp_path / "full/keep.txt").read_text() == "mine"


def provision(tmp_path: Path, cloud: str, base: str, layers: str) -> str:
    project = tmp_path / f"{cloud}-{base}"
    made = run_imagevet("pipeline", "init", "--cloud", cloud, "--base", base, "--layers", layers,
                        "--as-of", AS_OF_DATE, "-o", str(project))  # fmt: skip
    assert made.returncode == 0, made.stderr
    slug = layers.split(",")[-1].replace(":", "-")
    return (project / "layers" / slug / "provision.sh").read_text()


def test_each_base_gets_its_own_packages_and_a_new_enough_python(tmp_path: Path) -> None:
    """The interpreter imagevet needs (>= 3.11) and the middleware, by release and family (pipeline.yaml)."""
    rhel = provision(tmp_path, "azure", "rhel-9", "base,middleware:jdk21")
    assert "dnf install -y -q java-21-openjdk-headless" in rhel and "dnf install -y -q python3.12\n" in rhel
    assert "python3.12 -m venv /opt/imagevet" in rhel and "python3-venv" not in rhel
    jammy = provision(tmp_path, "aws", "ubuntu-22.04", "base")
    assert "apt-get install -y -q python3.11 python3.11-venv" in jammy and "python3.11 -m venv" in jammy
    amazon = provision(tmp_path, "aws", "amzn-2023", "base,middleware:jdk21")
    assert "java-21-amazon-corretto-headless" in amazon and "python3.12 -m venv" in amazon
    suse = provision(tmp_path, "aws", "sles-15.7", "base,middleware:jdk17")
    assert "zypper --non-interactive install java-17-openjdk-headless" in suse
    assert "zypper --non-interactive install python311" in suse
    bookworm = provision(tmp_path, "gcp", "debian-12", "base,middleware:jdk17")
    assert "openjdk-17-jre-headless" in bookworm and "python3 python3-venv" in bookworm


def test_the_python_guard_stops_a_build_on_an_old_interpreter(tmp_path: Path) -> None:
    """The guard line of provision.sh, run by /bin/sh: this machine's python3 (3.11) passes; an
    interpreter reporting an older version stops the script with the message."""
    script = provision(tmp_path, "gcp", "debian-13", "base")
    guard = next(line for line in script.splitlines() if "sys.version_info < (3, 11)" in line)
    ok = subprocess.run(["sh", "-c", guard + " && echo passed"], capture_output=True, text=True)
    assert ok.returncode == 0 and "passed" in ok.stdout, ok.stderr
    shim = tmp_path / "bin" / "python3"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\nexec /usr/bin/python3 -c 'import sys; sys.exit(1)'\n")  # reports "too old"
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}"}
    old = subprocess.run(["sh", "-c", guard + " && echo passed"], capture_output=True, text=True, env=env)
    assert old.returncode == 1 and "passed" not in old.stdout
    assert "imagevet needs Python >= 3.11 in the image; python3 is older" in old.stderr


def test_a_base_without_a_new_python_is_named(tmp_path: Path) -> None:
    made = run_imagevet("pipeline", "init", "--cloud", "alibaba", "--base", "alinux-3", "--layers", "base",
                        "--as-of", AS_OF_DATE, "-o", str(tmp_path / "p"))  # fmt: skip
    assert made.returncode == 0 and "alinux-3's python3 is older than 3.11" in made.stderr
