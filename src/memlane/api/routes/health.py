from __future__ import annotations

from fastapi import APIRouter

from ..deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database and model status")
async def health(engine: EngineDep) -> dict:
    return await engine.health()
