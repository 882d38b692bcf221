"""The removal command of the package rows (checks/package_fix.py): built from the row's own names, refused
for names a shell would read as more, and, on the rpm side, choosing names by the real rpm's answer.

The apt side is applied for real in a chroot (tests/harden/test_package_fixes.py). dnf does not run on
this machine: its side runs here with the real rpm reading a root built by rpmbuild (tests/support/rpmroot)
and a dnf stand-in that records what it was asked to remove, so what is proven is the choice of names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.checks.metadata import builtin_metadata, parse_record
from imagevet.checks.package_fix import purge_command, removal_names
from imagevet.errors import DataError
from tests.support.rpmroot import build_root, rpm_tools_available


def test_every_removal_row_removes_exactly_the_names_it_judges() -> None:
    for check, meta in builtin_metadata().items():
        judged = removal_names(meta.value)
        if not judged:
            continue
        for family, manager in (("debian", "apt"), ("rhel", "dnf")):
            [step] = meta.remediation_for(family)
            assert step.kind == "command" and step.text == purge_command(manager, judged), (check, family)


@pytest.mark.parametrize("name", ["a;reboot", "$(id)", "-y", "", "a b", "*", "x\ny"])
def test_a_name_a_shell_would_read_as_more_is_refused(name: str) -> None:
    with pytest.raises(DataError, match="not a package name"):
        purge_command("apt", ("telnet", name))


def test_an_unknown_manager_or_no_names_is_refused() -> None:
    with pytest.raises(DataError, match="known: apt, dnf"):
        purge_command("zypper", ("telnet",))
    with pytest.raises(DataError, match="op none"):
        purge_command("apt", ())


def test_a_purge_step_on_a_check_without_a_removal_row_is_a_data_error() -> None:
    record = {
        "title": "t",
        "severity": "low",
        "rationale": "r",
        "references": ["x"],
        "value": {"fact": "packages", "op": "any", "keys": ["aide"], "shown": "AIDE"},
        "remediation": {"debian": [{"purge": "apt"}]},
    }
    with pytest.raises(DataError, match="check packages-x: a purge step needs a packages row with op none"):
        parse_record("packages-x", record)


@pytest.mark.skipif(not rpm_tools_available(), reason="rpm and rpmbuild are not installed")
@pytest.mark.parametrize("installed", [["telnet", "xinetd"], []])
def test_the_dnf_command_removes_only_what_rpm_says_is_installed(
    tmp_path: Path, installed: list[str]
) -> None:
    packages = [{"name": n, "version": "1.0", "release": "1", "epoch": "", "license": "MIT"}
                for n in installed]  # fmt: skip
    other = {"name": "openssh", "version": "9", "release": "1", "epoch": "", "license": "MIT"}
    root = build_root(tmp_path, [*packages, other])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rpm").write_text(
        f'#!/bin/sh\nexec /usr/bin/rpm --root "{root}" --dbpath /var/lib/rpm'
        ' --define "_db_backend sqlite" "$@"\n'
    )
    asked = tmp_path / "dnf-args"
    (bin_dir / "dnf").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{asked}"\n')
    for tool in ("rpm", "dnf"):
        (bin_dir / tool).chmod(0o755)
    command = purge_command("dnf", ("telnet", "telnet-server", "xinetd", "tftp"))
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    if installed:
        words = asked.read_text().split()
        assert words[:2] == ["remove", "-y"] and sorted(words[2:]) == sorted(installed)
    else:
        assert not asked.exists()
