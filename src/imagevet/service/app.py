"""The HTTP API (/api/v1, OpenAPI at /docs and /openapi.json). Every route but /health needs a bearer
token, checked before the request's body is read (service/limits.py); a read token cannot write (403);
failed authentication is rate-limited per client address (429). The dashboard is in service/pages.py."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from imagevet import __version__
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Catalog
from imagevet.service import ingest, jobs, views
from imagevet.service.audit_job import AuditRequest, check_request
from imagevet.service.auth import AuthFailure, Gate, allows
from imagevet.service.db import (
    JOB_STATUSES,
    REMEDIATION,
    Finding,
    ImageVersion,
    Instance,
    Job,
    Report,
    utcnow,
)
from imagevet.service.jobs import JobContext, run_job
from imagevet.service.limits import JSON_KEY, MAX_BODY, SCOPE_KEY, RequestGuard
from imagevet.service.pages import add_pages
from imagevet.service.pool import JobPool
from imagevet.service.records import ReleaseMismatch, add_report, fill_release, retrying
from imagevet.service.rescan import Lookup
from imagevet.service.schemas import (
    AuditIn,
    ImageIn,
    ImagePatch,
    InstanceIn,
    finding_dict,
    image_dict,
    job_dict,
)
from imagevet.target.ssh import SshOptions

CLOUDS = ("aws", "azure", "alibaba", "tencent", "gcp", "onprem")
MAX_ID = 2**63 - 1  # the largest id either database can hold; larger ones cannot name anything
ImageQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="An image version's id.")]
JobId = Annotated[str, Path(max_length=36, description="A job's id.")]
IN_PROCESS_JOBS = 2  # jobs at once in the embedded mode; use the queue to run more


RETRIES = 8


def matches(vuln_id: str) -> Any:
    """Findings for an advisory id or one of its aliases; the aliases are JSON, searched as text (the
    same on SQLite and PostgreSQL), so callers confirm the exact match."""
    return or_(Finding.vuln_id == vuln_id, cast(Finding.aliases, String).like(f'%"{vuln_id}"%'))


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

    app = FastAPI(title="imagevet inventory", version=__version__, lifespan=lifespan)
    app.add_middleware(RequestGuard, authenticate=gate.bearer, max_bytes=max_body)

    def start(db: Session, kind: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        job = Job(id=str(uuid.uuid4()), kind=kind, params=params)
        db.add(job)
        db.commit()
        if defer is not None:
            defer(kind, job.id)  # a queue worker runs it (imagevet worker)
        else:
            pool.submit(job.id)
        return {"job": job.id, "status": job.status}

    def session() -> Iterator[Session]:
        with make_session() as db:
            yield db

    def scope(needed: str) -> Callable[..., None]:
        def check(request: Request) -> None:
            granted = getattr(request.state, SCOPE_KEY, None)  # the request guard authenticated it
            if granted is None:
                client = request.client.host if request.client else "?"
                try:
                    granted = gate.bearer(client, request.headers.get("authorization", ""))
                except AuthFailure as exc:
                    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                    raise HTTPException(exc.status, exc.message, headers=headers) from None
            if not allows(granted, needed):
                raise HTTPException(403, f"this token's scope ({granted}) does not allow {needed}")

        return check

    read, write, admin = Depends(scope("read")), Depends(scope("write")), Depends(scope("admin"))

    def image_or_404(db: Session, image: int) -> ImageVersion:
        found = db.get(ImageVersion, image) if 1 <= image <= MAX_ID else None
        if found is None:
            raise HTTPException(404, f"no image version {image}")
        return found

    add_pages(app, gate, session, known, today, image_or_404)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/api/v1/images", status_code=201, dependencies=[write])
    def register_image(body: ImageIn, db: Session = Depends(session)) -> dict[str, Any]:
        parent_id = None
        if body.parent:
            parent = db.scalars(
                select(ImageVersion).filter_by(cloud=body.cloud, image_id=body.parent)
            ).first()
            if parent is None:
                raise HTTPException(422, f"parent {body.parent} is not registered on {body.cloud}")
            parent_id = parent.id
        image = ImageVersion(
            cloud=body.cloud,
            image_id=body.image_id,
            release=body.release,
            layer=body.layer,
            name=body.name,
            parent_id=parent_id,
        )
        db.add(image)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise HTTPException(409, f"{body.cloud} {body.image_id} is already registered") from None
        return image_dict(image)

    @app.get("/api/v1/images", dependencies=[read])
    def list_images(
        db: Session = Depends(session),
        cloud: str | None = None,
        image_id: str | None = None,
        release: str | None = None,
        remediation: str | None = Query(default=None, pattern="^(open|rebuilding|replaced)$"),
        lifecycle: str | None = Query(
            default=None, pattern="^(supported|extended-only|end-of-life|unknown)$"
        ),
    ) -> list[dict[str, Any]]:
        query = select(ImageVersion).order_by(ImageVersion.id)
        if cloud:
            query = query.filter_by(cloud=cloud)
        if image_id:
            query = query.filter_by(image_id=image_id)
        if release:
            query = query.filter_by(release=release)
        if remediation:
            query = query.filter_by(remediation=remediation)
        rows = []
        for image in db.scalars(query):
            status, days_left = views.lifecycle_of(known, image.release, today())
            if lifecycle is None or status == lifecycle:
                rows.append({**image_dict(image), "lifecycle": status, "support_days_left": days_left})
        return rows

    @app.get("/api/v1/images/{image}", dependencies=[read])
    def show_image(image: int, db: Session = Depends(session)) -> dict[str, Any]:
        found = image_or_404(db, image)
        audit = db.scalars(
            select(Report)
            .filter_by(image_version_id=image, schema="imagevet/audit/v1")
            .order_by(Report.id.desc())
        ).first()
        severities = dict(
            db.execute(
                select(Finding.severity, func.count())
                .filter_by(image_version_id=image)
                .group_by(Finding.severity)
            ).all()
        )
        instances = db.scalars(select(Instance.instance_id).filter_by(image_version_id=image)).all()
        status, days_left = views.lifecycle_of(known, found.release, today())
        return {
            **image_dict(found),
            "lifecycle": status,
            "support_days_left": days_left,
            "replacement": views.replacement(known, found.cloud, found.release, today()),
            "audit": ingest.audit_summary(audit.document) if audit else None,
            "vulnerabilities": {str(k): int(v) for k, v in severities.items()},
            "instances": list(instances),
        }

    @app.patch("/api/v1/images/{image}", dependencies=[write])
    def patch_image(image: int, body: ImagePatch, db: Session = Depends(session)) -> dict[str, Any]:
        found = image_or_404(db, image)
        if body.remediation is not None:
            if REMEDIATION.index(body.remediation) < REMEDIATION.index(found.remediation):
                raise HTTPException(409, f"remediation moves forward only ({' -> '.join(REMEDIATION)})")
            found.remediation = body.remediation
        if body.release is not None:
            found.release = body.release
        db.commit()
        return image_dict(found)

    @app.post(
        "/api/v1/images/{image}/reports", status_code=201, dependencies=[write],
        openapi_extra={"requestBody": {"required": True, "description": "An imagevet JSON document.",
                                       "content": {"application/json": {"schema": {"type": "object"}}}}},
    )  # fmt: skip
    def receive_report(image: int, request: Request, db: Session = Depends(session)) -> dict[str, Any]:
        """Checked whole before anything is stored (service/ingest.py). The body was parsed, within
        bounds, by the request guard."""
        document = getattr(request.state, JSON_KEY, None)
        try:
            checked = ingest.check_document(document)
        except ingest.ValidationError as exc:
            raise HTTPException(422, f"not a report imagevet can take: {exc}") from None
        image_or_404(db, image)
        release = ingest.release_of(checked.os)

        def store() -> Report:  # one transaction: the report, the inventory it replaces, its findings
            fill_release(image_or_404(db, image), release)
            report = add_report(db, image, checked.schema, document, checked.packages, checked.findings)
            db.commit()
            return report

        try:
            report = retrying(db, store, RETRIES, 0.02)
        except ReleaseMismatch as exc:
            db.rollback()
            raise HTTPException(409, str(exc)) from None
        except (IntegrityError, OperationalError):
            raise HTTPException(409, "the report conflicted with concurrent writers; retry") from None
        return {"id": report.id, "schema": checked.schema, "received_at": report.received_at.isoformat()}

    @app.get("/api/v1/images/{image}/reports", dependencies=[read])
    def report_history(
        image: int, db: Session = Depends(session), schema: str | None = None
    ) -> list[dict[str, Any]]:
        image_or_404(db, image)
        query = select(Report).filter_by(image_version_id=image).order_by(Report.id)
        if schema:
            query = query.filter_by(schema=schema)
        return [
            {"id": r.id, "schema": r.schema, "received_at": r.received_at.isoformat()}
            for r in db.scalars(query)
        ]

    @app.post("/api/v1/instances", status_code=201, dependencies=[write])
    def register_instance(body: InstanceIn, db: Session = Depends(session)) -> dict[str, Any]:
        image = db.scalars(select(ImageVersion).filter_by(cloud=body.cloud, image_id=body.image_id)).first()
        if image is None:
            raise HTTPException(422, f"image {body.image_id} is not registered on {body.cloud}")
        instance = db.scalars(
            select(Instance).filter_by(cloud=body.cloud, instance_id=body.instance_id)
        ).first()
        if instance is None:
            instance = Instance(cloud=body.cloud, instance_id=body.instance_id, image_version_id=image.id)
            db.add(instance)
        else:
            instance.image_version_id, instance.updated_at = image.id, utcnow()
        db.commit()
        return {"cloud": instance.cloud, "instance_id": instance.instance_id, "image": image.id}

    @app.get("/api/v1/instances", dependencies=[read])
    def list_instances(db: Session = Depends(session), image: ImageQuery = None) -> list[dict[str, Any]]:
        query = select(Instance).order_by(Instance.id)
        if image is not None:
            query = query.filter_by(image_version_id=image)
        return [
            {"cloud": i.cloud, "instance_id": i.instance_id, "image": i.image_version_id}
            for i in db.scalars(query)
        ]

    @app.get("/api/v1/findings", dependencies=[read])
    def list_findings(
        db: Session = Depends(session),
        vuln: str | None = None,
        package: str | None = None,
        severity: str | None = None,
        image: ImageQuery = None,
    ) -> list[dict[str, Any]]:
        query = select(Finding).order_by(Finding.id)
        if vuln:
            query = query.where(matches(vuln))
        if package:
            query = query.filter_by(package=package)
        if severity:
            query = query.filter_by(severity=severity)
        if image is not None:
            query = query.filter_by(image_version_id=image)
        rows = db.scalars(query).all()
        if vuln:  # the text match on aliases is a prefilter; confirm exactly
            rows = [f for f in rows if f.vuln_id == vuln or vuln in (f.aliases or [])]
        return [finding_dict(f) for f in rows]

    @app.get("/api/v1/exposure/{vuln_id}", dependencies=[read])
    def exposure(vuln_id: str, db: Session = Depends(session)) -> dict[str, Any]:
        findings = [
            f for f in db.scalars(select(Finding)) if f.vuln_id == vuln_id or vuln_id in (f.aliases or [])
        ]
        image_ids = sorted({f.image_version_id for f in findings})
        images = [
            image_dict(i) for i in db.scalars(select(ImageVersion).where(ImageVersion.id.in_(image_ids)))
        ]
        instances = db.scalars(select(Instance).where(Instance.image_version_id.in_(image_ids))).all()
        return {
            "vuln_id": vuln_id,
            "images": images,
            "instances": [
                {"cloud": i.cloud, "instance_id": i.instance_id, "image": i.image_version_id}
                for i in instances
            ],
        }

    @app.post("/api/v1/rescans", status_code=202, dependencies=[write])
    def start_rescan(db: Session = Depends(session)) -> dict[str, Any]:
        if defer is None and lookup() is None:
            raise HTTPException(409, "the service has no advisory database (serve --db PATH or IMAGEVET_DB)")
        return start(db, "rescan")

    @app.post("/api/v1/images/{image}/audits", status_code=202, dependencies=[admin])
    def start_audit(image: int, body: AuditIn, db: Session = Depends(session)) -> dict[str, Any]:
        """Audit a target this service (or its workers) can reach and keep the audit and packages reports
        as this image's. Admin scope: the audit runs with the service's own file and SSH access."""
        image_or_404(db, image)
        request = AuditRequest(image, body.target, body.profile, tuple(body.checks), body.lifecycle_years,
                               body.sudo, body.timeout, body.region)  # fmt: skip
        try:
            check_request(request)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return start(db, "audit", request.params())

    @app.get("/api/v1/jobs", dependencies=[read])
    def list_jobs(
        db: Session = Depends(session),
        kind: str | None = Query(default=None, max_length=32),
        status: str | None = Query(default=None, pattern=f"^({'|'.join(JOB_STATUSES)})$"),
        limit: int = Query(default=50, ge=1, le=500),
    ) -> list[dict[str, Any]]:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if kind:
            query = query.filter_by(kind=kind)
        if status:
            query = query.filter_by(status=status)
        return [job_dict(j) for j in db.scalars(query)]

    @app.get("/api/v1/jobs/{job_id}", dependencies=[read])
    def show_job(job_id: JobId, db: Session = Depends(session)) -> dict[str, Any]:
        job = db.get(Job, job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        return job_dict(job)

    @app.delete("/api/v1/jobs/{job_id}", dependencies=[admin])
    def cancel_job(job_id: JobId) -> dict[str, Any]:
        """Cancel a queued or running job (admin): it shows ``cancelled`` at once, and a running attempt
        stops within a second, storing nothing. A finished job cannot be cancelled (409)."""
        job = jobs.cancel(make_session, job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        if job.status != "cancelled":
            raise HTTPException(409, f"the job is already {job.status}")
        return job_dict(job)

    @app.exception_handler(HTTPException)
    async def errors(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        """Validation errors in the API's own shape: one line naming each field and what is wrong."""
        problems = [
            f"{'.'.join(str(part) for part in e['loc'] if part != 'body') or 'body'}: {e['msg']}"
            for e in exc.errors()
        ]
        return JSONResponse({"error": "; ".join(problems)}, status_code=422)

    return app
