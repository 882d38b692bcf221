"""The plan as an Ansible playbook: ansible.builtin.copy for files (idempotent by content), shell for
commands, and running-system steps only when the host is booted with systemd."""

from __future__ import annotations

from typing import Any

from imagevet.harden.plan import Plan, file_mode
from imagevet.harden.yamlout import dump

RUNNING = "ansible_facts['service_mgr'] | default('') == 'systemd'"


def render_playbook(plan: Plan) -> str:
    tasks: list[dict[str, Any]] = []
    for fix in plan.fixes:
        for number, step in enumerate(fix.steps, start=1):
            name = f"{fix.check}: {fix.title} ({number})"
            if step.kind == "file" and step.path:
                copy = {"dest": step.path, "content": step.text, "owner": "root", "group": "root",
                        "mode": file_mode(step.path)}  # fmt: skip
                tasks.append({"name": name, "ansible.builtin.copy": copy})
            elif step.kind == "command":
                task: dict[str, Any] = {"name": name, "ansible.builtin.shell": step.text}
                if step.when == "running":
                    task["when"] = RUNNING
                tasks.append(task)
            else:
                tasks.append({"name": name, "ansible.builtin.debug": {"msg": f"manual: {step.text}"}})
    play = {
        "name": f"imagevet hardening for {plan.os} ({plan.target})",
        "hosts": "all",
        "become": True,
        "tasks": tasks,
    }
    header = f"# {plan.headline}\n"
    return header + dump([play])
