"""The HTTP API (/api/v1, OpenAPI at /docs and /openapi.json) and the dashboard, assembled: the runtime
the routers share, the lifespan that runs in-process jobs, the guards in front of every route, the routers
(service/routes/, one a resource) and the error shape. Every route but /health needs a bearer token,
checked before the request's body is read (service/limits.py); a read token cannot write (403); failed
authentication is rate-limited per client address (429)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from imagevet import __version__
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Catalog
from imagevet.service import jobs
from imagevet.service.auth import Gate
from imagevet.service.db import Job
from imagevet.service.jobs import JobContext, run_job
from imagevet.service.limits import MAX_BODY, RequestGuard
from imagevet.service.logs import AccessLog
from imagevet.service.pool import JobPool
from imagevet.service.rescan import Lookup
from imagevet.service.routes import audits, findings, health, images, instances, pages, reports, rescans
from imagevet.service.routes import jobs as job_routes
from imagevet.service.routes.deps import STATE_KEY, Runtime
from imagevet.target.ssh import SshOptions

IN_PROCESS_JOBS = 2  # jobs at once in the embedded mode; use the queue to run more
# In the order the routes were first written: the dashboard's pages, then the API by resource.
ROUTERS = (pages, health, images, reports, instances, findings, rescans, audits, job_routes)


def create_app(
    make_session: sessionmaker[Session],
    lookup: Callable[[], Lookup | None],
    catalog: Catalog | None = None,
    today: Callable[[], dt.date] = dt.date.today,
    defer: Callable[[str, str], None] | None = None,
    ssh: SshOptions | None = None,
    max_body: int = MAX_BODY,
    job_time_limit: float = jobs.TIME_LIMIT,
    job_attempts: int = jobs.ATTEMPTS,
) -> FastAPI:
    """The service. Jobs run on ``defer(kind, job_id)`` (a queue) when given, else on a small pool of
    threads of this process; ``ssh`` is the service's key and known_hosts for ssh:// audits. A job runs at
    most ``job_time_limit`` seconds per attempt and is tried at most ``job_attempts`` times."""
    gate = Gate(make_session)
    known = catalog or bundled_catalog()
    context = JobContext(lookup, known, today, ssh or SshOptions(), job_time_limit, job_attempts)
    pool = JobPool(IN_PROCESS_JOBS, lambda job_id: run_job(make_session, job_id, context))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """In-process jobs that a stopped server left queued or running are run again when it starts
        (a job is idempotent; one that keeps dying stops after its attempts). On the way out, running
        jobs are handed back (queued again) and jobs not yet started stay queued for the next start."""
        if defer is None:
            with make_session() as db:
                unfinished = db.scalars(
                    select(Job.id).where(Job.status.in_(jobs.ACTIVE)).order_by(Job.created_at)
                )
                for job_id in unfinished.all():
                    pool.submit(job_id)
        yield
        context.stopping.set()
        pool.close(timeout=10 * context.poll)

    def run(kind: str, job_id: str) -> None:
        if defer is not None:
            defer(kind, job_id)  # a queue worker runs it (imagevet worker)
        else:
            pool.submit(job_id)

    app = FastAPI(title="imagevet inventory", version=__version__, lifespan=lifespan)
    setattr(app.state, STATE_KEY, Runtime(make_session, gate, known, today, lookup, defer is not None, run))
    app.add_middleware(RequestGuard, authenticate=gate.bearer, max_bytes=max_body)
    app.add_middleware(AccessLog)  # added last: outermost, so it sees the guard's answers too
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, errors)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    return app


async def errors(request: Request, exc: HTTPException) -> Response:
    """Every refusal as ``{"error": "..."}``, with the headers it carries (WWW-Authenticate)."""
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def invalid(request: Request, exc: RequestValidationError) -> Response:
    """Validation errors in the API's own shape: one line naming each field and what is wrong."""
    problems = [
        f"{'.'.join(str(part) for part in e['loc'] if part != 'body') or 'body'}: {e['msg']}"
        for e in exc.errors()
    ]
    return JSONResponse({"error": "; ".join(problems)}, status_code=422)
