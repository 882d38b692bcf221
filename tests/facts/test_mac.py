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


def test_boot_entries_are_read_and_a_flood_of_them_is_refused(tmp_path: Path) -> None:
    entries = tmp_path / "boot/loader/entries"
    entries.mkdir(parents=True)
    (entries / "a.conf").write_text("title x\noptions root=/dev/vda1 quiet\n")
    (entries / "b.conf").write_text("title y\noptions root=/dev/vda1\noptions\tenforcing=0\n")  # a tab, too
    (entries / "notes.txt").write_text("options selinux=0\n")  # not an entry: only *.conf are
    mac = gather_mac(RootfsTarget(str(tmp_path)), None)
    assert [e.args for e in mac.cmdline.entries] == [
        ("root=/dev/vda1", "quiet"),
        ("root=/dev/vda1", "enforcing=0"),
    ]
    assert (
        mac.selinux_disabled_by() == "enforcing=0 in the boot entry /boot/loader/entries/b.conf (permissive)"
    )
    for n in range(1001):
        (entries / f"{n}.conf").write_text("options quiet\n")
    flooded = gather_mac(RootfsTarget(str(tmp_path)), None)
    assert flooded.cmdline.entries == () and "more than 1000" in (flooded.cmdline.entries_problem or "")


def test_the_policy_type_is_the_last_selinuxtype_line(tmp_path: Path) -> None:
    (tmp_path / "etc/selinux").mkdir(parents=True)
    (tmp_path / "etc/selinux/config").write_text(
        'SELINUX=permissive\nSELINUXTYPE=mls\nSELINUXTYPE="Targeted"\n'
    )
    selinux = gather_mac(RootfsTarget(str(tmp_path)), None).selinux
    assert (selinux.mode, selinux.policy_type) == ("permissive", "targeted")
    assert selinux.type_evidence is not None and selinux.type_evidence.line == 3
