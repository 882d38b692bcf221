"""A task for the killed-worker test: its first attempt announces itself and then sleeps (to be killed
with SIGKILL); a later attempt, on another worker, finishes. Loaded by workers through
IMAGEVET_QUEUE_IMPORTS."""

from __future__ import annotations

import time
from pathlib import Path

import procrastinate

blueprint = procrastinate.Blueprint()


@blueprint.task(name="sleepy")
def sleepy(folder: str) -> None:
    marks = Path(folder)
    attempt = len(list(marks.glob("started-*"))) + 1
    (marks / f"started-{attempt}").write_text("")
    if attempt == 1:
        time.sleep(600)
    (marks / "done").write_text(str(attempt))
