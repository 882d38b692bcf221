"""SELinux and AppArmor state, including kernel command-line overrides from /etc/default/grub."""

from __future__ import annotations

from pathlib import Path

from imagevet.facts.mac import gather_mac, parse_shell_assignments
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


def test_grub_assignments_expand_and_override() -> None:
    env: dict[str, str] = {}
    parse_shell_assignments(
        'GRUB_CMDLINE_LINUX="quiet"\n# GRUB_CMDLINE_LINUX="x"\n'
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"\n'
        "GRUB_TIMEOUT=5 # comment\nexport GRUB_CMDLINE_LINUX_DEFAULT='${nothing} splash'\n",
        env,
    )
    assert env["GRUB_CMDLINE_LINUX"] == "quiet apparmor=0"
    assert env["GRUB_TIMEOUT"] == "5"
    assert env["GRUB_CMDLINE_LINUX_DEFAULT"] == "${nothing} splash"


def test_grub_d_fragments_apply_after_main_file(tmp_path: Path) -> None:
    (tmp_path / "etc/default/grub.d").mkdir(parents=True)
    (tmp_path / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="security=apparmor"\n')
    (tmp_path / "etc/default/grub.d/50-cloud.cfg").write_text(
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX security=selinux"\n'
    )
    (tmp_path / "etc/default/grub.d/ignored.txt").write_text('GRUB_CMDLINE_LINUX="apparmor=0"\n')
    mac = gather_mac(RootfsTarget(str(tmp_path)), None)
    assert mac.cmdline.value("security") == "selinux"
    assert mac.apparmor_disabled_by() is not None
    assert mac.cmdline.sources == ("/etc/default/grub", "/etc/default/grub.d/50-cloud.cfg")


def test_rocky_fixture_is_permissive_and_selinux_off_on_cmdline() -> None:
    mac = gather_mac(RootfsTarget(str(FIXTURES / "rootfs/weak-rocky9")), None)
    assert mac.selinux.mode == "permissive"
    assert mac.selinux_disabled_by() == "selinux=0 on the kernel command line"
    assert not mac.apparmor.installed


def test_apparmor_profiles_exclude_fragments() -> None:
    mac = gather_mac(RootfsTarget(str(FIXTURES / "rootfs/hardened-debian")), None)
    assert mac.apparmor.installed and mac.apparmor.profiles == ("usr.sbin.chronyd",)
    assert mac.apparmor_disabled_by() is None


def test_lsm_list_without_apparmor(tmp_path: Path) -> None:
    (tmp_path / "etc/default").mkdir(parents=True)
    (tmp_path / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX_DEFAULT="lsm=landlock,yama"\n')
    mac = gather_mac(RootfsTarget(str(tmp_path)), None)
    assert mac.apparmor_disabled_by() == "lsm=landlock,yama on the kernel command line leaves AppArmor out"
