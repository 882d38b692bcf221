"""The plan as an Ansible playbook that reports what it really changed, so a second run of an applied
playbook shows `changed=0`, as Ansible users judge idempotence:

- files: ansible.builtin.copy, idempotent by content, after ansible.builtin.file for a parent directory
  the image may not have;
- commands (sed, chmod, pam-auth-update, package installs, unit-file actions and `sshd -t` made to work
  in an image as well, as in the bash output): shell tasks whose `changed_when` compares a
  fingerprint of the system's configuration and package state taken before and after the command: the
  content of every file under 8 MiB plus the name, mode, owner and size of everything under the paths a
  fix can touch;
- steps for a running system (reload sshd, `sysctl --system`): handlers, notified by the fix's other
  tasks, so they run once, at the end, and only when something changed; and only when the host is booted
  with systemd."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from imagevet.harden.offline import RUNNING as RUNNING_SH
from imagevet.harden.offline import (
    SSHD_TEST_HELPER,
    UNITS_HELPER,
    is_sshd_test,
    sshd_drop_ins,
    sshd_test_call,
    unit_action,
)
from imagevet.harden.plan import Fix, Plan, file_mode
from imagevet.harden.yamlout import dump

RUNNING = "ansible_facts['service_mgr'] | default('') == 'systemd'"
CHANGED = "imagevet: changed"
REGISTER = "imagevet_step"
# What a command from the checks' remediation can change: configuration, boot settings, PAM state and the
# package databases (dpkg, rpm in both locations, apk), and SELinux's relabel flag.
TRACKED = (
    "/etc /boot /var/lib/pam /var/lib/dpkg/status /var/lib/rpm /usr/lib/sysimage/rpm "
    "/lib/apk/db/installed /.autorelabel"
)
FINGERPRINT = f"""imagevet_state() {{
  for p in {TRACKED}; do
    [ -e "$p" ] || continue
    find "$p" -xdev -type f -size -8192k -exec cksum {{}} + 2>/dev/null
    find "$p" -xdev -exec stat -c '%n %a %u %g %s' {{}} + 2>/dev/null
  done | sort | cksum
}}"""


def tracked_command(command: str) -> str:
    """The command in a subshell between two fingerprints; prints CHANGED when they differ. POSIX sh
    (Ansible's shell module runs /bin/sh) and busybox-compatible (find -exec, stat -c, cksum)."""
    return (
        f"{FINGERPRINT}\nbefore=$(imagevet_state)\n( {command}\n)\nstatus=$?\n"
        f'[ "$before" = "$(imagevet_state)" ] || echo "{CHANGED}"\nexit $status\n'
    )


def offline_aware(command: str, sshd_expected: str = "") -> str:
    """The command as it must run in an image too (harden/offline.py): unit-file actions on the unit files
    when no systemd runs, `sshd -t` with its privilege separation directory; others as they are."""
    action = unit_action(command)
    if action is not None:
        return f"{RUNNING_SH}{UNITS_HELPER}{action.shell}"
    if is_sshd_test(command):
        return f"{SSHD_TEST_HELPER}{sshd_test_call(sshd_expected)}"
    return command


def handler_name(command: str) -> str:
    return f"imagevet running system: {command}"


def fix_tasks(fix: Fix) -> tuple[list[dict[str, Any]], list[str]]:
    """The fix's tasks, and the running-system commands they notify (to become handlers)."""
    running = [s.text for s in fix.steps if s.kind == "command" and s.when == "running"]
    others = [s for s in fix.steps if not (s.kind == "command" and s.when == "running")]
    notified = running if others else []
    notify = {"notify": [handler_name(c) for c in notified]} if notified else {}
    tasks: list[dict[str, Any]] = []
    expected = sshd_drop_ins(fix.steps)
    for number, step in enumerate(fix.steps, start=1):
        name = f"{fix.check}: {fix.title} ({number})"
        if step.kind == "file" and step.path:
            copy = {"dest": step.path, "content": step.text, "owner": "root", "group": "root",
                    "mode": file_mode(step.path)}  # fmt: skip
            tasks.append({"name": name, "ansible.builtin.copy": copy, **notify})
        elif step.kind == "command" and step.when == "running":
            if not others:  # nothing to notify from: the step is a task of its own
                tasks.append({"name": name, "ansible.builtin.shell": step.text, "when": RUNNING})
        elif step.kind == "command":
            tasks.append({
                "name": name, "ansible.builtin.shell": tracked_command(offline_aware(step.text, expected)),
                "register": REGISTER, "changed_when": f"'{CHANGED}' in {REGISTER}.stdout", **notify,
            })  # fmt: skip
        else:
            tasks.append({"name": name, "ansible.builtin.debug": {"msg": f"manual: {step.text}"}})
    return tasks, notified


def with_directories(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each copy's parent directory made first (copy does not create it; the bash output's mkdir -p
    does), once per directory and without mode or owner, so an existing directory such as sudoers.d
    keeps its own (a new one is root's, with the default mode)."""
    made: set[str] = set()
    result: list[dict[str, Any]] = []
    for task in tasks:
        copy = task.get("ansible.builtin.copy")
        parent = str(PurePosixPath(copy["dest"]).parent) if copy else None
        if parent and parent not in made:
            made.add(parent)
            directory = {"path": parent, "state": "directory"}
            result.append({"name": f"directory {parent}", "ansible.builtin.file": directory})
        result.append(task)
    return result


def render_playbook(plan: Plan) -> str:
    tasks: list[dict[str, Any]] = []
    handlers: dict[str, dict[str, Any]] = {}  # by command: a reload shared by several fixes runs once
    for fix in plan.fixes:
        fix_list, notified = fix_tasks(fix)
        tasks += fix_list
        for command in notified:
            handlers.setdefault(
                command, {"name": handler_name(command), "ansible.builtin.shell": command, "when": RUNNING}
            )
    tasks = with_directories(tasks)
    play: dict[str, Any] = {
        "name": f"imagevet hardening for {plan.os} ({plan.target})",
        "hosts": "all",
        "become": True,
        "tasks": tasks,
    }
    if handlers:
        play["handlers"] = list(handlers.values())
    header = f"# {plan.headline}\n"
    return header + dump([play])
