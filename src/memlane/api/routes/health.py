from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database, models, job queue and sessions")
async def health(engine: EngineDep) -> dict:
    return await engine.health()


@router.get("/health/live", summary="The process is up (for orchestrators)")
async def live() -> dict:
    return {"status": "alive"}


@router.get("/health/ready", summary="Ready to serve: 200, or 503 with the reason",
            responses={503: {"description": "Not ready: the health report says why"}})
async def ready(engine: EngineDep):
    report = await engine.health()
    if engine.started_at is None or report["status"] != "ok":
        return JSONResponse({**report, "status": "not ready"}, status_code=503)
    return {"status": "ready"}
