"""Scale-out: jobs on procrastinate, a PostgreSQL-backed task queue (docs/service.md says why), with N
workers on any number of machines (`imagevet worker`). The queue lives in the same PostgreSQL database
as the inventory, so a job row and its queue entry are in one place.

A worker killed in the middle of a job stops sending heartbeats; every worker runs a periodic task that
requeues the jobs of workers silent for longer than STALLED_AFTER seconds, so another worker finishes it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from imagevet.service.jobs import KINDS, RESCAN

STALLED_AFTER = float(os.environ.get("IMAGEVET_STALLED_AFTER", "30"))
HEARTBEAT = max(0.5, STALLED_AFTER / 5)


def dsn_of(database_url: str) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    if database_url.startswith("postgresql://"):
        return database_url
    raise ValueError("the job queue needs a PostgreSQL --database-url")


class Interrupted(Exception):
    """The worker is stopping: the job was handed back, and procrastinate runs it again later."""


def make_queue(database_url: str, runner: Any = None) -> Any:
    """The procrastinate App with imagevet's tasks. ``runner(job_id, interrupted)`` runs a job of any kind
    (workers pass one; the web service only defers); ``interrupted()`` says whether procrastinate asked
    the job to stop ("stop": the worker is shutting down) or to abort ("cancel"). Extra task modules,
    each with a procrastinate ``blueprint``: IMAGEVET_QUEUE_IMPORTS (comma-separated)."""
    import procrastinate
    from procrastinate.job_context import AbortReason

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn_of(database_url)))
    for module in (m for m in os.environ.get("IMAGEVET_QUEUE_IMPORTS", "").split(",") if m):
        app.add_tasks_from(importlib.import_module(module).blueprint, namespace=module)

    def run(context: Any, job_id: str) -> None:
        if runner is None:
            raise RuntimeError("this process only defers jobs")

        def interrupted() -> str | None:
            reason = context.abort_reason()
            if reason is None:
                return None
            return "stop" if reason == AbortReason.SHUTDOWN else "cancel"

        if runner(job_id, interrupted) == "interrupted":
            raise Interrupted(job_id)  # retried: the job row is queued again

    # One task per job kind, so the queue's own tools show what is waiting. A job never raises but when
    # its worker stops (Interrupted) or its database is unreachable: both are worth trying again; a job
    # that keeps dying is stopped by its own attempt count (service/jobs.py), not here.
    retry = procrastinate.RetryStrategy(max_attempts=50, wait=2)
    for kind in KINDS:
        app.task(name=f"imagevet.{kind}", retry=retry, pass_context=True)(run)

    @app.periodic(cron="* * * * * */5", periodic_id="requeue-stalled")
    @app.task(name="imagevet.requeue_stalled", queueing_lock="requeue-stalled", pass_context=True)
    async def requeue_stalled(context: Any, timestamp: int) -> None:
        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            await manager.retry_job(job)

    return app


def deferrer(app: Any) -> Any:
    """A function that queues a job by kind and id (for the web service; the app must be open)."""

    def defer(kind: str, job_id: str) -> None:
        # Rescans share one lock: each re-matches the whole fleet, so they run one after another rather
        # than racing on the same findings. Audits of different images run side by side.
        lock = f"imagevet.{kind}" if kind == RESCAN else None
        app.configure_task(f"imagevet.{kind}", lock=lock).defer(job_id=job_id)

    return defer


def ensure_schema(database_url: str, app: Any) -> None:
    """Create procrastinate's tables once (its schema is its own; Alembic manages imagevet's)."""
    import psycopg

    with psycopg.connect(dsn_of(database_url)) as connection:
        exists = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if exists is None or exists[0] is None:
        with app.open():
            app.schema_manager.apply_schema()
