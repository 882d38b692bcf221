"""``/health``: the one route without a token, for load balancers and `serve`'s own start-up wait."""

from __future__ import annotations

from fastapi import APIRouter

from imagevet import __version__

router = APIRouter()


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
