"""Whether systemd starts a unit at boot (facts/units.py), against the real oracle: this machine's
``systemctl --root=ROOT`` (systemd 252 on Debian 12, installed by dev.sh), which reads a root's unit
directories without a running systemd. Compared on every unit file systemctl lists in the debootstrap
roots (with and without systemd) and in the service overlays of tests/fixtures/cases, and on the names
the service checks ask for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.checks.metadata import builtin_metadata
from imagevet.facts.units import UnitIndex, index_units, unit_state
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.checks.cases import OVERLAYS, ROOTFS
from tests.conftest import AS_OF_DAY
from tests.harden.conftest import variant_root

pytestmark = pytest.mark.real

# systemctl's word -> the state imagevet must give (static units are judged by whether something links
# them, which systemctl's word does not say; an alias takes the state of the unit it names)
SAME = {"enabled": "enabled", "disabled": "disabled", "masked": "masked", "indirect": "disabled"}
SERVICE_UNITS = sorted(
    {
        key
        for meta in builtin_metadata().values()
        for row in meta.value
        if row.fact == "units"
        for key in row.keys
    }
)


def systemctl(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    program = shutil.which("systemctl")
    if program is None:
        pytest.fail("systemctl is not installed (./dev.sh test installs systemd)")
    return subprocess.run([program, f"--root={root}", *args], capture_output=True, text=True, timeout=60)


def listed(root: Path) -> dict[str, str]:
    """Every unit file systemctl finds under ``root``, with its state."""
    result = systemctl(root, "list-unit-files", "--no-legend", "--no-pager")
    assert result.returncode == 0, result.stderr
    return {
        fields[0]: fields[1] for fields in (line.split() for line in result.stdout.splitlines()) if fields
    }


def compared(root: Path) -> int:
    """Asserts imagevet's state of every listed unit is systemctl's; returns how many were compared."""
    target = RootfsTarget(str(root))
    index = index_units(target)
    assert isinstance(index, UnitIndex)
    units = listed(root)
    count = 0
    for name, word in units.items():
        ours = unit_state(target, index, name).state
        if word in SAME:
            assert ours == SAME[word], f"{name}: systemctl says {word}, imagevet {ours}"
            count += 1
        elif word == "alias":
            assert ours != "missing", name
    for name in SERVICE_UNITS:
        if name not in units:
            assert unit_state(target, index, name).state == "missing", name
    return count


def overlaid(overlay: str, into: Path) -> Path:
    root = into / overlay
    shutil.copytree(ROOTFS / "hardened-debian", root, symlinks=True)
    shutil.copytree(
        OVERLAYS / overlay, root, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns("HOW.md")
    )
    return root


@pytest.mark.parametrize("overlay", ["cis-pass", "cis-fail", "services-on", "services-off"])
def test_the_service_overlays_read_as_systemctl_reads_them(overlay: str, tmp_path: Path) -> None:
    assert compared(overlaid(overlay, tmp_path)) >= 3


@pytest.mark.parametrize("variant", ["base", "systemctl-offline"])
def test_every_unit_of_the_debootstrap_roots_reads_as_systemctl_reads_it(variant: str) -> None:
    """The roots as debootstrap made them: dozens of units enabled, disabled and masked by their packages."""
    assert compared(variant_root(variant)) >= (40 if variant == "systemctl-offline" else 5)


def test_an_alias_has_the_state_of_the_unit_it_names(tmp_path: Path) -> None:
    root = overlaid("cis-pass", tmp_path)  # systemctl enable chrony links chronyd.service to chrony.service
    target = RootfsTarget(str(root))
    index = index_units(target)
    assert isinstance(index, UnitIndex)
    state = unit_state(target, index, "chronyd.service")
    assert (state.name, state.state) == ("chronyd.service", "enabled")
    assert systemctl(root, "is-enabled", "chronyd.service").stdout.strip() == "alias"


def test_a_dependency_is_taken_from_the_links_name_not_where_it_leads(tmp_path: Path) -> None:
    """A link left by a removed package enables nothing (no unit of that name); one of a unit's name that
    leads nowhere still makes systemd start it, as systemctl says."""
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / "gone.service").symlink_to("/usr/lib/systemd/system/gone.service")
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/system/kept.service").write_text("[Service]\nExecStart=/bin/true\n")
    (wants / "kept.service").symlink_to("/nowhere/kept.service")
    target = RootfsTarget(str(tmp_path))
    index = index_units(target)
    assert isinstance(index, UnitIndex)
    assert unit_state(target, index, "gone.service").state == "missing"
    assert unit_state(target, index, "kept.service").state == "enabled"
    assert systemctl(tmp_path, "is-enabled", "kept.service").stdout.strip() == "enabled"


def test_a_unit_directory_that_cannot_be_listed_is_unknown_not_empty(tmp_path: Path) -> None:
    (tmp_path / "etc/systemd").mkdir(parents=True)
    (tmp_path / "etc/systemd/system").write_text("not a directory\n")
    found = index_units(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Unknown) and "/etc/systemd/system" in found.reason


BLUETOOTH = "[Unit]\nDescription=Bluetooth\n[Service]\nExecStart=/usr/libexec/bluetooth/bluetoothd\n"
INSTALLED = BLUETOOTH + "[Install]\nWantedBy=bluetooth.target\nAlias=dbus-org.bluez.service\n"
ETC, VENDOR, TO_LIB = "etc/systemd/system", "usr/lib/systemd/system", "-> /lib/systemd/system"


def state_of(root: Path, name: str, files: dict[str, str | None]) -> str:
    """The state imagevet reads after laying out ``files`` (text, or "-> TARGET" for a link, or None
    for a directory)."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif content.startswith("-> "):
            path.symlink_to(content[3:])
        else:
            path.write_text(content)
    target = RootfsTarget(str(root))
    index = index_units(target)
    assert isinstance(index, UnitIndex)
    return unit_state(target, index, name).state


# Found by the red-team of session 29 (each a false pass before): systemctl --root agrees where named.
CASES = {
    "a wants entry under an alias name": (
        {
            f"{VENDOR}/bluetooth.service": INSTALLED,
            f"{ETC}/multi-user.target.wants/dbus-org.bluez.service": f"{TO_LIB}/bluetooth.service",
        },
        "enabled",
        None,  # systemd --test starts it (the red-team's second oracle); systemctl reads the name alone
    ),
    "a mask in system.control": (
        {
            "usr/lib/systemd/system/bluetooth.service": INSTALLED,
            f"{ETC}/bluetooth.target.wants/bluetooth.service": f"{TO_LIB}/bluetooth.service",
            "etc/systemd/system.control/bluetooth.service": "-> /dev/null",
        },
        "masked",
        "masked",
    ),
    "a link in system.attached": (
        {
            "usr/lib/systemd/system/bluetooth.service": INSTALLED,
            f"{ETC}.attached/bluetooth.target.wants/bluetooth.service": "-> ../../bluetooth.service",
        },
        "enabled",
        None,
    ),
    "an empty WantedBy= installs nothing, so the vendor link starts it": (
        {
            "usr/lib/systemd/system/bluetooth.service": BLUETOOTH + "[Install]\nWantedBy=\n",
            "usr/lib/systemd/system/multi-user.target.wants/bluetooth.service": "-> ../bluetooth.service",
        },
        "enabled",
        "static",
    ),
    "a WantedBy= swallowed by a continued line": (
        {
            "usr/lib/systemd/system/bluetooth.service": BLUETOOTH
            + "[Install]\nX-Note=a \\\nWantedBy=x.target\n",
            "usr/lib/systemd/system/multi-user.target.wants/bluetooth.service": "-> ../bluetooth.service",
        },
        "enabled",
        "static",
    ),
    "a directory of the unit's name in /etc is passed over": (
        {
            "usr/lib/systemd/system/bluetooth.service": INSTALLED,
            "etc/systemd/system/bluetooth.service": None,
            f"{ETC}/bluetooth.target.wants/bluetooth.service": f"{TO_LIB}/bluetooth.service",
        },
        "enabled",
        None,
    ),
    "a unit file linked to a file of no unit's name": (
        {
            "opt/bt.conf": INSTALLED,
            "etc/systemd/system/bluetooth.service": "-> ../../../opt/bt.conf",
            f"{ETC}/bluetooth.target.wants/bluetooth.service": f"-> /{ETC}/bluetooth.service",
        },
        "enabled",
        None,
    ),
    "an alias chain": (
        {
            "usr/lib/systemd/system/c.service": INSTALLED,
            "etc/systemd/system/b.service": "-> /usr/lib/systemd/system/c.service",
            "etc/systemd/system/bluetooth.service": "-> /etc/systemd/system/b.service",
            "etc/systemd/system/multi-user.target.wants/c.service": "-> /usr/lib/systemd/system/c.service",
        },
        "enabled",
        None,
    ),
    "an alias loop": (
        {
            "etc/systemd/system/a.service": "-> /etc/systemd/system/bluetooth.service",
            "etc/systemd/system/bluetooth.service": "-> /etc/systemd/system/a.service",
        },
        "unknown",
        None,
    ),
    "units in the image's /run do not exist at boot": (
        {
            "run/systemd/system/bluetooth.service": INSTALLED,
            "run/systemd/system/bluetooth.target.wants/bluetooth.service": "-> ../bluetooth.service",
        },
        "missing",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_what_the_red_team_found(case: str, tmp_path: Path) -> None:
    files, ours, oracle = CASES[case]
    assert state_of(tmp_path, "bluetooth.service", files) == ours
    if oracle is not None:
        assert systemctl(tmp_path, "is-enabled", "bluetooth.service").stdout.strip() == oracle


def test_debian_reads_lib_before_usr_lib_on_a_split_usr_image(tmp_path: Path) -> None:
    files: dict[str, str | None] = {
        "lib/systemd/system/cron.service": "-> /dev/null",
        f"{VENDOR}/cron.service": "[Service]\nExecStart=/usr/sbin/cron\n[Install]\nWantedBy=default.target\n",
        "etc/systemd/system/multi-user.target.wants/cron.service": "-> /usr/lib/systemd/system/cron.service",
    }
    assert state_of(tmp_path, "cron.service", files) == "masked"
    assert systemctl(tmp_path, "is-enabled", "cron.service").stdout.strip() == "masked"


def test_a_vendor_link_of_a_unit_with_its_own_install_fails_the_checks_that_want_it_off(
    tmp_path: Path,
) -> None:
    """systemctl calls it disabled; boot starts it where the target is reached (the red-team ran systemd
    --test): imagevet keeps the link and the disabled checks count it against the image."""
    from imagevet.audit import run_audit
    from imagevet.checks.base import CheckOptions
    from imagevet.model import Status

    files: dict[str, str | None] = {
        f"{VENDOR}/bluetooth.service": INSTALLED,
        f"{VENDOR}/multi-user.target.wants/bluetooth.service": "-> ../bluetooth.service",
    }
    assert state_of(tmp_path, "bluetooth.service", files) == "disabled"
    assert systemctl(tmp_path, "is-enabled", "bluetooth.service").stdout.strip() == "disabled"
    report = run_audit(RootfsTarget(str(tmp_path)), CheckOptions(AS_OF_DAY), ["service-bluetooth-disabled"])
    (result,) = report.results
    assert result.status is Status.FAIL and "pulled in by the vendor's" in result.evidence[0].detail
