"""The HTTP API (/api/v1, OpenAPI at /docs and /openapi.json). Every route but /health needs a bearer
token; a read token cannot write (403); failed authentication is rate-limited (429)."""

from __future__ import annotations

import contextlib
import datetime as dt
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from imagevet import __version__
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Catalog
from imagevet.service import ingest, views
from imagevet.service.audit_job import AuditRequest, check_request
from imagevet.service.auth import FailureLimiter, allows, digest
from imagevet.service.db import (
    REMEDIATION,
    ApiToken,
    Finding,
    ImageVersion,
    Instance,
    Job,
    Report,
    utcnow,
)
from imagevet.service.jobs import JobContext, run_job
from imagevet.service.limits import MAX_BODY, RequestGuard
from imagevet.service.records import add_report, retrying
from imagevet.service.rescan import Lookup
from imagevet.target.ssh import SshOptions
from imagevet.web.render import render

CLOUDS = ("aws", "azure", "alibaba", "tencent", "gcp", "onprem")
COOKIE = "imagevet_token"
MAX_ID = 2**63 - 1  # the largest id either database can hold; larger ones cannot name anything
ImageQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="An image version's id.")]
IN_PROCESS_JOBS = 2  # jobs at once in the embedded mode; use the queue to run more


class ImageIn(BaseModel):
    cloud: str = Field(pattern="^(aws|azure|alibaba|tencent|gcp|onprem)$")
    image_id: str = Field(min_length=1, max_length=512)
    release: str = Field(default="", max_length=64)
    layer: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=512)
    parent: str | None = Field(default=None, max_length=512, description="Parent image id, same cloud.")


class ImagePatch(BaseModel):
    remediation: str = Field(pattern="^(open|rebuilding|replaced)$")


class AuditIn(BaseModel):
    target: str = Field(
        min_length=1, max_length=4096,
        description="An absolute directory, ssh://[user@]host[:port], or docker-archive:/, oci:/, tar:/ or "
        "disk:/ with an absolute path, as the service's host sees it.",
    )  # fmt: skip
    profile: str = Field(default="checklist", max_length=32)
    checks: list[str] = Field(default_factory=list, max_length=200)
    lifecycle_years: float = Field(default=3.0, ge=0, le=30)
    sudo: bool = False
    timeout: float = Field(default=20.0, gt=0, le=600, description="Network timeout for ssh targets.")


class InstanceIn(BaseModel):
    cloud: str = Field(pattern="^(aws|azure|alibaba|tencent|gcp|onprem)$")
    instance_id: str = Field(min_length=1, max_length=256)
    image_id: str = Field(min_length=1, max_length=512, description="The cloud image id it runs.")


def image_dict(image: ImageVersion) -> dict[str, Any]:
    return {
        "id": image.id,
        "cloud": image.cloud,
        "image_id": image.image_id,
        "release": image.release,
        "layer": image.layer,
        "name": image.name,
        "parent_id": image.parent_id,
        "remediation": image.remediation,
        "created_at": image.created_at.isoformat(),
    }


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "attempts": job.attempts,
        "params": job.params,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "image": finding.image_version_id,
        "vuln_id": finding.vuln_id,
        "aliases": finding.aliases,
        "package": finding.package,
        "installed": finding.installed,
        "fixed": finding.fixed,
        "severity": finding.severity,
        "origin": finding.origin,
        "first_seen": finding.first_seen.isoformat(),
    }


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
) -> FastAPI:
    """The service. Jobs run on ``defer(kind, job_id)`` (a queue) when given, else on a small pool of
    threads of this process; ``ssh`` is the service's key and known_hosts for ssh:// audits."""
    limiter = FailureLimiter()
    known = catalog or bundled_catalog()
    context = JobContext(lookup, known, today, ssh or SshOptions())
    pool = ThreadPoolExecutor(max_workers=IN_PROCESS_JOBS, thread_name_prefix="imagevet-job")

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """In-process jobs that a stopped server left queued or running are run again when it starts
        (a job is idempotent); on the way out, jobs not yet started stay queued for the next start."""
        if defer is None:
            with make_session() as db:
                unfinished = db.scalars(select(Job.id).where(Job.status.in_(("queued", "running"))))
                for job_id in unfinished.all():
                    pool.submit(run_job, make_session, job_id, context)
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="imagevet inventory", version=__version__, lifespan=lifespan)
    app.add_middleware(RequestGuard, max_bytes=max_body)

    def start(db: Session, kind: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        job = Job(id=str(uuid.uuid4()), kind=kind, params=params)
        db.add(job)
        db.commit()
        if defer is not None:
            defer(kind, job.id)  # a queue worker runs it (imagevet worker)
        else:
            pool.submit(run_job, make_session, job.id, context)
        return {"job": job.id, "status": job.status}

    def session() -> Iterator[Session]:
        with make_session() as db:
            yield db

    def token_scope(request: Request, db: Session, token: str) -> str | None:
        """The token's scope, or None (counted as a failure); 429 while the client is locked out."""
        client = request.client.host if request.client else "?"
        if limiter.blocked(client):
            raise HTTPException(429, "too many failed authentications; try again later")
        row = db.scalars(select(ApiToken).where(ApiToken.digest == digest(token))).first() if token else None
        if row is None:
            limiter.failed(client)
            return None
        return row.scope

    def scope(needed: str) -> Callable[..., None]:
        def check(request: Request, db: Session = Depends(session)) -> None:
            header = request.headers.get("authorization", "")
            token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
            granted = token_scope(request, db, token)
            if granted is None:
                raise HTTPException(
                    401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
                )
            if not allows(granted, needed):
                raise HTTPException(403, f"this token's scope ({granted}) does not allow {needed}")

        return check

    def page_allowed(request: Request, db: Session) -> bool:
        """Dashboard pages: a token (any scope) in the session cookie set by /login."""
        token = request.cookies.get(COOKIE, "")
        return bool(token) and token_scope(request, db, token) is not None

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> str:
        return render("login.html.j2", title="imagevet: sign in", error="")

    @app.post("/login")
    async def login(request: Request, db: Session = Depends(session)) -> Response:
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        if token_scope(request, db, token) is None:
            page = render("login.html.j2", title="imagevet: sign in", error="That token is not valid.")
            return HTMLResponse(page, status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/", response_class=HTMLResponse)
    def dashboard(request: Request, db: Session = Depends(session)) -> Response:
        if not page_allowed(request, db):
            return RedirectResponse("/login", status_code=303)
        data = views.overview(db, known, today())
        return HTMLResponse(render("dashboard.html.j2", title="imagevet: image fleet", data=data))

    @app.get("/images/{image}", response_class=HTMLResponse)
    def image_view(image: int, request: Request, db: Session = Depends(session)) -> Response:
        if not page_allowed(request, db):
            return RedirectResponse("/login", status_code=303)
        found = image_or_404(db, image)
        data = views.image_page(db, known, found, today())
        return HTMLResponse(render("image.html.j2", title=f"imagevet: {found.image_id}", data=data))

    read, write, admin = Depends(scope("read")), Depends(scope("write")), Depends(scope("admin"))

    def image_or_404(db: Session, image: int) -> ImageVersion:
        found = db.get(ImageVersion, image) if 1 <= image <= MAX_ID else None
        if found is None:
            raise HTTPException(404, f"no image version {image}")
        return found

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
        if REMEDIATION.index(body.remediation) < REMEDIATION.index(found.remediation):
            raise HTTPException(409, f"remediation moves forward only ({' -> '.join(REMEDIATION)})")
        found.remediation = body.remediation
        db.commit()
        return image_dict(found)

    @app.post("/api/v1/images/{image}/reports", status_code=201, dependencies=[write])
    def receive_report(
        image: int, document: Any = Body(...), db: Session = Depends(session)
    ) -> dict[str, Any]:
        try:
            schema = ingest.schema_of(document)
            packages = ingest.packages_of(document) if schema == "imagevet/packages/v1" else []
            findings = ingest.findings_of(document) if schema == "imagevet/vuln/v1" else []
        except ValueError as exc:
            raise HTTPException(422, f"not a report imagevet can take: {exc}") from exc
        image_or_404(db, image)

        def store() -> Report:  # one transaction: the report, the inventory it replaces, its findings
            report = add_report(db, image, schema, document, packages, findings)
            db.commit()
            return report

        try:
            report = retrying(db, store, RETRIES, 0.02)
        except (IntegrityError, OperationalError):
            raise HTTPException(409, "the report conflicted with concurrent writers; retry") from None
        return {"id": report.id, "schema": schema, "received_at": report.received_at.isoformat()}

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
                               body.sudo, body.timeout)  # fmt: skip
        try:
            check_request(request)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return start(db, "audit", request.params())

    @app.get("/api/v1/jobs", dependencies=[read])
    def list_jobs(
        db: Session = Depends(session),
        kind: str | None = None,
        status: str | None = None,
        limit: int = Query(default=50, ge=1, le=500),
    ) -> list[dict[str, Any]]:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if kind:
            query = query.filter_by(kind=kind)
        if status:
            query = query.filter_by(status=status)
        return [job_dict(j) for j in db.scalars(query)]

    @app.get("/api/v1/jobs/{job_id}", dependencies=[read])
    def show_job(job_id: str, db: Session = Depends(session)) -> dict[str, Any]:
        job = db.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
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
