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

from imagevet.service.jobs import KINDS

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


def make_queue(database_url: str, runner: Any = None) -> Any:
    """The procrastinate App with imagevet's tasks. ``runner(job_id)`` runs a job of any kind (workers
    pass one; the web service only defers). Extra task modules, each with a procrastinate ``blueprint``:
    IMAGEVET_QUEUE_IMPORTS (comma-separated)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn_of(database_url)))
    for module in (m for m in os.environ.get("IMAGEVET_QUEUE_IMPORTS", "").split(",") if m):
        app.add_tasks_from(importlib.import_module(module).blueprint, namespace=module)

    def run(job_id: str) -> None:
        if runner is None:
            raise RuntimeError("this process only defers jobs")
        runner(job_id)

    for kind in KINDS:  # one task per job kind, so the queue's own tools show what is waiting
        app.task(name=f"imagevet.{kind}", retry=procrastinate.RetryStrategy(max_attempts=3))(run)

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
        lock = "imagevet.rescan" if kind == "rescan" else None
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
