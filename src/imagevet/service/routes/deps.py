"""What the routers share. The service's runtime (the session factory, the token gate, the catalog, the
clock, how jobs run) is built once by `create_app` and kept on the app's state, so a router is a plain
module-level ``APIRouter`` that asks for what it uses through ``Depends`` and never closes over a
factory's locals. None of these add a parameter to the OpenAPI document: they read the request only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from imagevet.catalog.model import Catalog
from imagevet.service.auth import AuthFailure, Gate, allows
from imagevet.service.db import ImageVersion, Job
from imagevet.service.limits import SCOPE_KEY
from imagevet.service.rescan import Lookup
from imagevet.service.vocabulary import SCOPES

STATE_KEY = "imagevet"  # app.state attribute holding the Runtime
MAX_ID = 2**63 - 1  # the largest id either database can hold; larger ones cannot name anything


@dataclass(frozen=True)
class Runtime:
    """The process-wide parts every request may use."""

    make_session: sessionmaker[Session]
    gate: Gate
    catalog: Catalog
    today: Callable[[], dt.date]
    lookup: Callable[[], Lookup | None]
    queued: bool  # jobs run on `imagevet worker`s (a queue) rather than in this process
    run: Callable[[str, str], None]  # hand a stored job (kind, id) to whatever runs it


def runtime(request: Request) -> Runtime:
    found: Runtime = getattr(request.app.state, STATE_KEY)
    return found


Service = Annotated[Runtime, Depends(runtime)]


def session(service: Service) -> Iterator[Session]:
    """One database session per request, closed when the answer has been sent."""
    with service.make_session() as db:
        yield db


def known(service: Service) -> Catalog:
    return service.catalog


def today(service: Service) -> dt.date:
    return service.today()


Db = Annotated[Session, Depends(session)]
Known = Annotated[Catalog, Depends(known)]
Today = Annotated[dt.date, Depends(today)]
ImageQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="An image version's id.")]


def needs(scope: str) -> Any:
    """A route dependency refusing tokens below ``scope`` (403). The request guard (service/limits.py)
    has already authenticated API requests; a request it did not (none today) is authenticated here."""

    def check(request: Request, service: Service) -> None:
        granted = getattr(request.state, SCOPE_KEY, None)
        if granted is None:
            client = request.client.host if request.client else "?"
            try:
                granted = service.gate.bearer(client, request.headers.get("authorization", ""))
            except AuthFailure as exc:
                headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                raise HTTPException(exc.status, exc.message, headers=headers) from None
        if not allows(granted, scope):
            raise HTTPException(403, f"this token's scope ({granted}) does not allow {scope}")

    return Depends(check)


# One per scope, lowest first (a scope added to the vocabulary fails here until it is given a name).
READ, WRITE, ADMIN = (needs(scope) for scope in SCOPES)


def image_or_404(db: Session, image: int) -> ImageVersion:
    found = db.get(ImageVersion, image) if 1 <= image <= MAX_ID else None
    if found is None:
        raise HTTPException(404, f"no image version {image}")
    return found


def start_job(
    service: Runtime, db: Session, kind: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store a job, then hand it over (a queue worker, or this process's pool): the answer to a POST that
    starts one (202)."""
    job = Job(id=str(uuid.uuid4()), kind=kind, params=params)
    db.add(job)
    db.commit()
    service.run(kind, job.id)
    return {"job": job.id, "status": job.status}
