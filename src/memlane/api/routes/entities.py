from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ...schemas import MAX_OFFSET
from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["entities"])


class EntityOut(BaseModel):
    id: str
    name: str
    label: str
    memory_count: int


class EntityList(BaseModel):
    entities: list[EntityOut]


@router.get("/entities", summary="People, places and things the caller's memories mention")
async def list_entities(user: CurrentUser, engine: EngineDep,
                        q: Annotated[str | None, Query(max_length=200)] = None,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> EntityList:
    found = await engine.entities(user.id, q, limit, offset)
    return EntityList(entities=[EntityOut(id=e.id, name=e.name, label=e.label,
                                          memory_count=e.memory_count) for e in found])
