"""cloud-init's datasource_list from cloud.cfg and cloud.cfg.d/*.cfg: later files win, files that are
not YAML are named (cloud-init ignores them), unreadable ones are passed over."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.cloudinit import CloudConfig, gather_cloud_config, parse_datasource_list
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant


def test_the_overlay_fixture() -> None:
    assert gather_cloud_config(RootfsTarget(str(FIXTURES / "cases/cis-pass"))) == CloudConfig(
        ("Ec2", "None"), "/etc/cloud/cloud.cfg.d/90-imagevet-datasource.cfg", ()
    )


def test_syntax() -> None:
    assert parse_datasource_list("datasource_list: [ NoCloud, ConfigDrive ]\n") == ["NoCloud", "ConfigDrive"]
    assert parse_datasource_list("datasource:\n  Ec2:\n    timeout: 5\n") is None
    assert parse_datasource_list("datasource_list: Ec2\n") is None  # not a list: cloud-init ignores it
    assert parse_datasource_list("") is None


@pytest.mark.parametrize("text", ["datasource_list: [Ec2\n", "\t- : :\n", "[" * 5000 + "]" * 5000])
def test_not_yaml_raises(text: str) -> None:
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_datasource_list(text)


def test_later_files_win_and_broken_ones_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "etc/cloud/cloud.cfg.d"
    folder.mkdir(parents=True)
    (tmp_path / "etc/cloud/cloud.cfg").write_text("datasource_list: [Azure]\n")
    (folder / "50-a.cfg").write_text("datasource_list: [Ec2, None]\n")
    (folder / "60-b.cfg").write_text("datasource_list: [Ec2\n")
    assert gather_cloud_config(RootfsTarget(str(tmp_path))) == CloudConfig(
        ("Ec2", "None"), "/etc/cloud/cloud.cfg.d/50-a.cfg", ("/etc/cloud/cloud.cfg.d/60-b.cfg",)
    )


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_passed_over(tmp_path: Path, kind: str) -> None:
    (tmp_path / "etc/cloud").mkdir(parents=True)
    (tmp_path / "etc/cloud/cloud.cfg").write_text("datasource_list: [GCE]\n")
    plant(tmp_path, "/etc/cloud/cloud.cfg.d/90-x.cfg", kind)
    found = gather_cloud_config(RootfsTarget(str(tmp_path)))
    assert found.datasources == ("GCE",) and found.invalid == ()
