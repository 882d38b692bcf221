"""Effective sysctl values follow systemd-sysctl's directory, masking and ordering rules."""

from __future__ import annotations

from pathlib import Path

from imagevet.facts.sysctl import SysctlValue, gather_sysctl, normalize_key
from imagevet.model import Unknown
from imagevet.target import RootfsTarget


def write(root: Path, path: str, text: str) -> None:
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text)


def value(root: Path, key: str) -> SysctlValue:
    result = gather_sysctl(RootfsTarget(str(root))).get(key)
    assert isinstance(result, SysctlValue)
    return result


def test_kernel_default_when_unset(tmp_path: Path) -> None:
    got = value(tmp_path, "vm.swappiness")
    assert got.value == "60" and got.path is None


def test_later_file_in_lexical_order_wins(tmp_path: Path) -> None:
    write(tmp_path, "/usr/lib/sysctl.d/90-late.conf", "vm.swappiness = 5\n")
    write(tmp_path, "/etc/sysctl.d/10-early.conf", "vm.swappiness = 50\n")
    got = value(tmp_path, "vm.swappiness")
    assert (got.value, got.path, got.line) == ("5", "/usr/lib/sysctl.d/90-late.conf", 1)


def test_etc_masks_same_name_in_usr_lib(tmp_path: Path) -> None:
    write(tmp_path, "/usr/lib/sysctl.d/50-x.conf", "vm.swappiness = 1\n")
    write(tmp_path, "/etc/sysctl.d/50-x.conf", "vm.swappiness = 40\n")
    assert value(tmp_path, "vm.swappiness").value == "40"


def test_dev_null_link_masks_a_file(tmp_path: Path) -> None:
    write(tmp_path, "/usr/lib/sysctl.d/50-x.conf", "vm.swappiness = 1\n")
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    (tmp_path / "etc/sysctl.d/50-x.conf").symlink_to("/dev/null")
    assert value(tmp_path, "vm.swappiness").value == "60"


def test_later_assignment_in_a_file_wins_and_slashes(tmp_path: Path) -> None:
    write(tmp_path, "/etc/sysctl.d/60.conf", "vm.swappiness=20\n; comment\n# c\nvm/swappiness = 7\n")
    got = value(tmp_path, "vm.swappiness")
    assert (got.value, got.line) == ("7", 4)


def test_normalize_key_swaps_only_when_slash_comes_first() -> None:
    assert normalize_key("net/ipv4/conf/eth0.1/rp_filter") == "net.ipv4.conf.eth0/1.rp_filter"
    assert normalize_key("net.ipv4.conf.all.rp_filter") == "net.ipv4.conf.all.rp_filter"


def test_sysctl_conf_read_last_unless_linked(tmp_path: Path) -> None:
    write(tmp_path, "/etc/sysctl.d/99-zzz.conf", "vm.swappiness = 3\n")
    write(tmp_path, "/etc/sysctl.conf", "vm.swappiness = 33\n")
    assert value(tmp_path, "vm.swappiness").path == "/etc/sysctl.conf"
    (tmp_path / "etc/sysctl.d/99-sysctl.conf").symlink_to("../sysctl.conf")
    config = gather_sysctl(RootfsTarget(str(tmp_path)))
    assert config.files.count("/etc/sysctl.conf") == 0  # applied once, through the link
    got = config.get("vm.swappiness")
    assert isinstance(got, SysctlValue) and got.value == "3"  # 99-zzz sorts after 99-sysctl


def test_glob_applies_unless_explicit_or_excluded(tmp_path: Path) -> None:
    write(
        tmp_path,
        "/usr/lib/sysctl.d/50-default.conf",
        "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n",
    )
    assert value(tmp_path, "net.ipv4.conf.all.rp_filter").value == "0"  # excluded: kernel default
    assert value(tmp_path, "net.ipv4.conf.default.rp_filter").value == "2"
    write(tmp_path, "/etc/sysctl.d/60.conf", "net.ipv4.conf.*.rp_filter = 1\n")
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 2\n")
    assert value(tmp_path, "net.ipv4.conf.all.rp_filter").value == "1"


def test_dash_prefix_is_an_assignment(tmp_path: Path) -> None:
    write(tmp_path, "/etc/sysctl.d/60.conf", "-vm.swappiness = 9\n")
    assert value(tmp_path, "vm.swappiness").value == "9"


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    (tmp_path / "etc/sysctl.d/10-bin.conf").write_bytes(b"\x00\x01")
    config = gather_sysctl(RootfsTarget(str(tmp_path)))
    assert config.problems and "binary" in config.problems[0]


def test_unknown_key_without_default(tmp_path: Path) -> None:
    assert isinstance(gather_sysctl(RootfsTarget(str(tmp_path))).get("kernel.unknown_thing"), Unknown)


def test_running_value_on_live_host(tmp_path: Path) -> None:
    config = gather_sysctl(RootfsTarget(str(tmp_path)))
    config.running = {"vm.swappiness": "1"}
    got = config.get("vm.swappiness")
    assert isinstance(got, SysctlValue) and got.running == "1" and got.value == "60"
