"""Automatic updates: apt.conf ordering and syntax, dnf-automatic and yum-cron detection."""

from __future__ import annotations

from pathlib import Path

from imagevet.facts.aptconf import AptValue, apply_apt_conf, gather_apt_conf
from imagevet.facts.updates import UpdatesFacts, gather_updates
from imagevet.inventory.dpkg import gather_dpkg
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.test_packages import by_name

HARDENED = FIXTURES / "rootfs/hardened-debian"


def test_apt_conf_forms_and_comments() -> None:
    values: dict[str, AptValue] = {}
    text = """
// line comment
/* block
   comment */
APT::Periodic::Update-Package-Lists "1"; // trailing
APT {
  Periodic {
    Unattended-Upgrade "1";
    Download-Upgradeable-Packages "0";
  };
};
# hash comment
Dir::Cache "/var/cache/apt/";
"""
    assert apply_apt_conf(values, text, "/f") == []
    assert values["apt::periodic::update-package-lists"].value == "1"
    assert values["apt::periodic::unattended-upgrade"] == AptValue("1", "/f", 8)
    assert values["dir::cache"].value == "/var/cache/apt/"


def test_clear_drops_a_subtree() -> None:
    values: dict[str, AptValue] = {}
    apply_apt_conf(values, 'APT::Periodic::Unattended-Upgrade "1";\n#clear APT::Periodic;\n', "/f")
    assert "apt::periodic::unattended-upgrade" not in values


def test_unbalanced_braces_are_reported() -> None:
    assert apply_apt_conf({}, "APT { Periodic {\n", "/f")


def test_later_file_overrides_and_apt_conf_last(tmp_path: Path) -> None:
    conf_d = tmp_path / "etc/apt/apt.conf.d"
    conf_d.mkdir(parents=True)
    (conf_d / "20auto-upgrades").write_text('APT::Periodic::Unattended-Upgrade "1";\n')
    (conf_d / "99disable").write_text('APT::Periodic::Unattended-Upgrade "0";\n')
    (conf_d / "zz.dpkg-old").write_text('APT::Periodic::Unattended-Upgrade "1";\n')
    values, _ = gather_apt_conf(RootfsTarget(str(tmp_path)))
    assert values["apt::periodic::unattended-upgrade"].value == "0"
    (tmp_path / "etc/apt/apt.conf").write_text('APT::Periodic::Unattended-Upgrade "2";\n')
    values, _ = gather_apt_conf(RootfsTarget(str(tmp_path)))
    assert values["apt::periodic::unattended-upgrade"].path == "/etc/apt/apt.conf"


def test_hardened_debian_has_unattended_upgrades() -> None:
    target = RootfsTarget(str(HARDENED))
    facts = gather_updates(target, "debian", by_name(gather_dpkg(target)))
    assert isinstance(facts, UpdatesFacts) and facts.enabled


def test_masked_timer_disables(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "root"
    shutil.copytree(HARDENED, root, symlinks=True)
    (root / "etc/systemd/system/apt-daily-upgrade.timer").symlink_to("/dev/null")
    target = RootfsTarget(str(root))
    facts = gather_updates(target, "debian", by_name(gather_dpkg(target)))
    assert isinstance(facts, UpdatesFacts) and not facts.enabled
    assert any("masked" in e.detail for e in facts.evidence)


def test_dnf_automatic_apply_no_is_not_enabled() -> None:
    facts = gather_updates(RootfsTarget(str(FIXTURES / "rootfs/weak-rocky9")), "rhel", None)
    assert isinstance(facts, UpdatesFacts) and facts.mechanism == "dnf-automatic" and not facts.enabled


def install_unit(root: Path, unit: str, wanted_by: str | None = None) -> None:
    """Ship ``unit`` in /usr/lib/systemd/system and, with ``wanted_by``, enable it as systemctl would."""
    unit_dir = root / "usr/lib/systemd/system"
    unit_dir.mkdir(parents=True, exist_ok=True)
    (unit_dir / unit).write_text("[Unit]\n")
    if wanted_by is not None:
        wants = root / f"etc/systemd/system/{wanted_by}.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / unit).symlink_to(f"/usr/lib/systemd/system/{unit}")


def test_dnf_automatic_install_timer_forces_apply(tmp_path: Path) -> None:
    install_unit(tmp_path, "dnf-automatic-install.timer", "timers.target")
    facts = gather_updates(RootfsTarget(str(tmp_path)), "rhel", None)
    assert isinstance(facts, UpdatesFacts) and facts.enabled


def test_yum_cron_on_el7(tmp_path: Path) -> None:
    (tmp_path / "etc/yum").mkdir(parents=True)
    (tmp_path / "etc/yum/yum-cron.conf").write_text("[commands]\napply_updates = yes\n")
    install_unit(tmp_path, "yum-cron.service")
    facts = gather_updates(RootfsTarget(str(tmp_path)), "rhel", None)
    assert isinstance(facts, UpdatesFacts) and facts.mechanism == "yum-cron" and not facts.enabled
    install_unit(tmp_path, "yum-cron.service", "multi-user.target")
    facts = gather_updates(RootfsTarget(str(tmp_path)), "rhel", None)
    assert isinstance(facts, UpdatesFacts) and facts.enabled


def test_other_families_are_undecided(tmp_path: Path) -> None:
    assert isinstance(gather_updates(RootfsTarget(str(tmp_path)), "alpine", None), Unknown)
