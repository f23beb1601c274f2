from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ...schemas import MemoryOut, SearchQuery, SearchResultOut
from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["search"])


class SearchResponse(BaseModel):
    results: list[SearchResultOut]
    query: dict
    strategies: dict
    timings_ms: dict


@router.post("/search", summary="Hybrid search of the caller's memories")
async def search(body: SearchQuery, user: CurrentUser, engine: EngineDep) -> SearchResponse:
    outcome = await engine.search(user.id, body)
    results = [SearchResultOut(memory=MemoryOut.of(r.memory), score=r.score,
                               reasons=r.reasons if body.explain else {})
               for r in outcome.results]
    return SearchResponse(results=results, query=outcome.analysis.as_dict(),
                          strategies=outcome.strategies, timings_ms=outcome.timings_ms)
