"""Judging a file's mode and owner: shared by the file-perms-* checks and ssh-host-keys."""

from __future__ import annotations

from imagevet.facts.files import SystemFiles
from imagevet.model import Evidence, Outcome, Status, Unknown


def file_mode(files: SystemFiles, path: str, max_mode: int, groups: tuple[str, ...] = ("root",)) -> Outcome:
    """``path`` owned by root, in one of ``groups``, with no permission bit beyond ``max_mode``."""
    node = files.mode(path)
    if isinstance(node, Unknown):
        return Outcome.of(Status.ERROR, node.reason)
    if node.mode < 0:
        return Outcome.of(Status.ERROR, f"{path}: this target does not record permissions")
    problems = []
    if node.mode & ~max_mode:
        problems.append(f"mode {node.mode:04o} allows more than {max_mode:04o}")
    if node.uid != 0:
        problems.append(f"owner uid {node.uid} is not root")
    group_ids = {files.gid(name) for name in groups} - {None}
    if node.gid not in group_ids:
        problems.append(f"group gid {node.gid} is not {' or '.join(groups)}")
    detail = f"{path}: mode {node.mode:04o}, uid {node.uid}, gid {node.gid}"
    if problems:
        return Outcome(Status.FAIL, (Evidence(f"{detail}: {'; '.join(problems)}", path),))
    return Outcome(Status.PASS, (Evidence(detail, path),))
