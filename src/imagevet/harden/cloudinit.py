"""The plan as a #cloud-config document: files through write_files, commands through runcmd (which
cloud-init runs once, on first boot, when services are up, so reloads are kept)."""

from __future__ import annotations

from typing import Any

from imagevet.harden.plan import Plan, file_mode
from imagevet.harden.yamlout import dump


def render_cloud_config(plan: Plan) -> str:
    files: list[dict[str, Any]] = []
    commands: list[list[str]] = []
    for fix in plan.fixes:
        for step in fix.steps:
            if step.kind == "file" and step.path:
                files.append(
                    {
                        "path": step.path,
                        "content": step.text,
                        "owner": "root:root",
                        "permissions": file_mode(step.path),
                    }
                )
            elif step.kind == "command":
                commands.append(["sh", "-c", step.text])
    document: dict[str, Any] = {}
    if files:
        document["write_files"] = files
    if commands:
        document["runcmd"] = commands
    header = f"#cloud-config\n# {plan.headline}\n"
    manual = [f"# manual ({fix.check}): {note}" for fix in plan.fixes for note in fix.manual]
    body = dump(document) if document else "{}\n"
    return header + "".join(line + "\n" for line in manual) + body
