"""Service actions in the remediation data and what the bash output makes of them (harden/offline.py):
every one is guarded, deferred or done offline; none reaches a chroot raw. The offline unit-file helper
is compared, operation by operation, with the real `systemctl --root` on a debootstrap root with systemd."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from imagevet.checks.metadata import FAMILIES, builtin_metadata
from imagevet.harden.bash import render_bash
from imagevet.harden.offline import RUNNING, UNITS_HELPER, UnitAction, unit_action
from imagevet.harden.plan import Fix, Plan
from imagevet.model import RemediationStep

# Acting on running daemons or the running kernel: only on a booted system.
RUNNING_ONLY = re.compile(
    r"\bsysctl\s+(--system|-p\b|-w\b)|\bsystemctl\s+(\S+\s+)*(reload|restart|try-restart|reload-or-restart|start|"
    r"stop|daemon-reload|kill)\b|\bservice\s+\S+\s+(reload|restart|start|stop)\b|\binvoke-rc\.d\b"
)


def every_step() -> list[tuple[str, RemediationStep]]:
    metadata = builtin_metadata()
    return [
        (check, step)
        for check, meta in metadata.items()
        for family in FAMILIES
        for step in meta.remediation.get(family, ())
    ]


def test_unit_actions_are_recognised_exactly() -> None:
    assert unit_action("systemctl enable --now apt-daily.timer apt-daily-upgrade.timer") == UnitAction(
        "enable", ("apt-daily.timer", "apt-daily-upgrade.timer"), True
    )
    assert unit_action("systemctl --now disable cups.service") == UnitAction(
        "disable", ("cups.service",), True
    )
    assert unit_action("systemctl mask getty@tty1.service") == UnitAction(
        "mask", ("getty@tty1.service",), False
    )
    for other in (
        "systemctl enable auditd",  # no unit suffix: not a name imagevet can check
        "systemctl enable --now x.service && reboot",
        "systemctl enable $(cat /etc/units)",
        "systemctl --root=/mnt enable x.service",
        "systemctl reload ssh",
        "systemctl enable",
        "systemctl enable 'x.service",
        "apt-get install -y auditd && systemctl enable auditd.service",
    ):
        assert unit_action(other) is None, other
    assert UnitAction("enable", ("a b.service",), False).shell == "imagevet_units enable - 'a b.service'"


def test_every_service_action_in_the_metadata_is_guarded_or_done_offline() -> None:
    """A running-system command is marked `when: running`; every other systemctl command is a unit-file
    action the bash output can do offline; sshd -t stands alone (the script gives it /run/sshd)."""
    for check, step in every_step():
        if step.kind != "command":
            continue
        if RUNNING_ONLY.search(step.text):
            assert step.when == "running", f"{check}: {step.text}"
        elif "systemctl" in step.text:
            assert step.when == "running" or unit_action(step.text) is not None, f"{check}: {step.text}"
        if "sshd -t" in step.text:
            assert step.text == "sshd -t", f"{check}: {step.text}"


def test_no_service_action_reaches_the_image_raw() -> None:
    """The whole remediation data of every family in one script: inside the fix functions no systemctl,
    no sysctl --system; running-system steps are asked for (imagevet_later) and run, once, at the end."""
    fixes = []
    for check, meta in builtin_metadata().items():
        for family in FAMILIES:
            steps = meta.remediation.get(family)
            if steps:
                fixes.append(Fix(f"{check}-{family}", meta.title, meta.severity.value, steps))
    script = render_bash(Plan("t", "os", "imagevet", tuple(fixes)))
    bodies = re.findall(r"^fix_\w+\(\) \{\n(.*?)^\}", script, re.MULTILINE | re.DOTALL)
    assert len(bodies) == len(fixes)
    for body in bodies:
        assert "systemctl" not in body and "sysctl --system" not in body, body
    steps = re.findall(r"^imagevet_step_(\d+)\(\) \{\n  (.*)\n\}", script, re.MULTILINE)
    assert sorted(text for _, text in steps) == [
        "sysctl --system",
        "systemctl reload ssh 2>/dev/null || systemctl reload sshd",
        "systemctl reload sshd",
        "systemctl restart systemd-journald",
        "systemctl try-restart rsyslog.service",
    ]
    proc = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def booted(script: str) -> str:
    """The script as it runs on a system booted with systemd (this machine has none to boot)."""
    assert RUNNING in script
    return script.replace(RUNNING, "imagevet_running() { true; }\n")


def test_on_a_booted_system_each_running_step_runs_once_and_its_failure_names_the_fixes(
    tmp_path: Path,
) -> None:
    log = tmp_path / "ran.log"
    reload = RemediationStep("command", f"echo reload >> {log}", when="running")
    broken = RemediationStep("command", f"echo broken >> {log}; false", when="running")
    fixes = (
        Fix("ssh-a", "t", "low", (RemediationStep("command", "true"), reload)),
        Fix("ssh-b", "t", "low", (reload,)),
        Fix("sysctl-c", "t", "low", (broken,)),
        Fix("never-asks", "t", "low", (RemediationStep("command", "false"), reload, broken)),
    )
    script = tmp_path / "fix.sh"
    script.write_text(booted(render_bash(Plan("t", "os", "imagevet", fixes))))
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert log.read_text() == "reload\nbroken\n"  # once each, after the fixes, in order
    assert proc.returncode == 1
    assert f"imagevet: echo broken >> {log}; false failed (for sysctl-c)" in proc.stderr
    assert proc.stderr.splitlines()[-1] == "imagevet: 2 fix(es) failed: never-asks sysctl-c"

    unbooted = tmp_path / "unbooted.sh"
    unbooted.write_text(render_bash(Plan("t", "os", "imagevet", fixes[:3])))
    log.unlink()
    proc = subprocess.run(["bash", str(unbooted)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not log.exists()
    assert f"left for boot: echo reload >> {log} (for ssh-a ssh-b)" in proc.stdout


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_a_link_or_directory_at_a_target_is_left_alone_and_the_fix_fails(kind: str, tmp_path: Path) -> None:
    """An attacker's (or a mistake's) link at the path a fix writes: never followed, never replaced."""
    outside = tmp_path / "outside.conf"
    outside.write_text("keep\n")
    target = tmp_path / "etc/x.conf"
    target.parent.mkdir()
    if kind == "symlink":
        target.symlink_to(outside)
    else:
        target.mkdir()
    script = tmp_path / "fix.sh"
    step = RemediationStep("file", "new\n", str(target))
    script.write_text(render_bash(Plan("t", "os", "imagevet", (Fix("check-x", "t", "low", (step,)),))))
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and f"imagevet: {target} is not a regular file; left as it is" in proc.stderr
    assert outside.read_text() == "keep\n" and (target.is_symlink() or list(target.iterdir()) == [])
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.conf"]


UNITS = [
    "ssh.service",  # Alias=sshd.service, and a SysV script whose rc links systemctl keeps in step
    "apt-daily.timer",
    "systemd-networkd.service",  # Also= (its socket and wait-online), Alias= a D-Bus name
    "e2scrub_reap.service",
    "cloud-init.service",  # WantedBy a target of its own, SysV script
    "sudo.service",  # shipped masked (a link to /dev/null in /lib/systemd/system)
    "getty@.service",  # a template, enabled as its DefaultInstance
    "getty@tty3.service",  # an instance
    "nonexistent.service",
]
SEQUENCE = [
    "disable",
    "enable",
    "enable",
    "mask",
    "enable",
    "unmask",
    "disable",
    "mask",
    "disable",
    "unmask",
    "enable",
]


def unit_links(root: Path) -> dict[str, str]:
    found = {}
    for top in ["etc/systemd/system", *(f"etc/rc{level}.d" for level in "0123456S")]:
        for path in (root / top).rglob("*"):
            if path.is_symlink():
                found[str(path.relative_to(root))] = os.readlink(path)
    return found


@pytest.mark.real
def test_the_offline_unit_helper_makes_the_links_systemctl_makes(systemd_root: Path, tmp_path: Path) -> None:
    """For an image without systemctl: the same operations on two copies of a root with systemd, one by
    the real `systemctl --root` (the oracle), one by imagevet_unit_offline in a chroot whose systemctl was
    removed. After every operation both copies have the same links (units and SysV rc links) and both
    succeeded or both failed."""
    oracle, ours = tmp_path / "oracle", tmp_path / "ours"
    for copy in (oracle, ours):  # hard links: only links are made and removed, never a file rewritten
        subprocess.run(["cp", "-al", str(systemd_root), str(copy)], check=True)
    (ours / "usr/bin/systemctl").unlink()
    assert unit_links(oracle) == unit_links(ours)
    compared = 0
    for verb in SEQUENCE:
        for unit in UNITS:
            real = subprocess.run(
                ["systemctl", f"--root={oracle}", verb, unit], capture_output=True, text=True
            )
            helper = subprocess.run(
                ["chroot", str(ours), "/bin/sh", "-c", f"{UNITS_HELPER}imagevet_unit_offline {verb} {unit}"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            where = (
                f"{verb} {unit}: systemctl said {real.stderr.strip()[-200:]!r}, imagevet {helper.stderr!r}"
            )
            assert (real.returncode == 0) == (helper.returncode == 0), where
            assert unit_links(oracle) == unit_links(ours), where
            compared += 1
    assert compared == len(SEQUENCE) * len(UNITS)
    assert os.readlink(ours / "etc/systemd/system/getty.target.wants/getty@tty1.service").endswith(
        "getty@.service"
    )


@pytest.mark.real
def test_a_hostile_install_section_makes_no_link_outside_the_unit_directory(
    debian_root: Path, tmp_path: Path
) -> None:
    """The image's own unit files are input too: [Install] words that are paths, not unit names, fail
    the action before anything is linked; units naming each other in Also= do not loop."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-al", str(debian_root), str(root)], check=True)
    units = root / "etc/systemd/system"
    hostile = {
        "wanted.service": "WantedBy=../../../../tmp/evil.target\n",
        "alias.service": "WantedBy=multi-user.target\nAlias=../../../etc/cron.d/evil\n",
        "also.service": "WantedBy=multi-user.target\nAlso=../../x.service\n",
        "ping.service": "WantedBy=multi-user.target\nAlso=pong.service\n",
        "pong.service": "WantedBy=multi-user.target\nAlso=ping.service\n",
    }
    for name, install in hostile.items():
        (units / name).write_text(
            f"[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n[Install]\n{install}"
        )
    before = unit_links(root)

    def enable(unit: str) -> subprocess.CompletedProcess[str]:
        command = f"{UNITS_HELPER}imagevet_unit_offline enable {unit}"
        return subprocess.run(["chroot", str(root), "/bin/sh", "-c", command], capture_output=True, text=True,
                              timeout=30)  # fmt: skip

    for unit in ("wanted.service", "alias.service", "also.service"):
        proc = enable(unit)
        assert proc.returncode == 1 and "names something that is not a unit" in proc.stderr, proc.stderr
        assert "evil" not in proc.stderr and "../" not in proc.stderr  # named by key, not echoed
    assert unit_links(root) == before
    assert not (root / "tmp/evil.target.wants").exists() and not (root / "etc/cron.d/evil").exists()
    proc = enable("ping.service")
    assert proc.returncode == 0, proc.stderr
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert {p.name for p in wants.iterdir()} >= {"ping.service", "pong.service"}


def test_the_sshd_read_back_takes_single_values_before_any_match_block() -> None:
    from imagevet.harden.offline import sshd_expectations, sshd_test_call

    drop_ins = [
        "# a comment\nMaxAuthTries 4  # four\nMACs -hmac-md5*,umac-64*\nLogLevel VERBOSE\n",
        "LogLevel VERBOSE\nMatch User ci\n  PasswordAuthentication yes\n",
    ]
    assert sshd_expectations(drop_ins) == "maxauthtries 4\nloglevel VERBOSE"
    assert sshd_test_call("") == "imagevet_sshd_test"
    assert sshd_test_call("maxauthtries 4") == "imagevet_sshd_test 'maxauthtries 4'"
