from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ... import jsonsafe
from ...domain import MemoryFilter, MemoryType
from ...errors import BadRequest, Invalid
from ...schemas import (
    MAX_OFFSET,
    MAX_RESULTS,
    HistoryOut,
    MemoryCreate,
    MemoryOut,
    MemoryPatch,
    aware_utc,
)
from ..deps import CurrentUser, EngineDep

router = APIRouter(prefix="/memories", tags=["memories"])


class Batch(BaseModel):
    memories: list[MemoryCreate] = Field(min_length=1)


class BatchOut(BaseModel):
    memories: list[MemoryOut]
    created: int


class MemoryPage(BaseModel):
    memories: list[MemoryOut]
    total: int
    limit: int
    offset: int


class Deleted(BaseModel):
    deleted: int


class ImportOut(BaseModel):
    imported: int
    existing: int
    errors: list[dict[str, Any]]


@router.post("", status_code=201, summary="Remember something",
             responses={200: {"model": MemoryOut, "description": "Already remembered (the "
                              "same `client_id`, or the same text): the existing memory"}})
async def add_memory(body: MemoryCreate, user: CurrentUser, engine: EngineDep,
                     response: Response) -> MemoryOut:
    memory, created = await engine.memories.add(user.id, body)
    if not created:
        response.status_code = 200  # idempotent replay or exact duplicate
    return MemoryOut.of(memory)


@router.post("/batch", status_code=201, summary="Remember several things")
async def add_batch(body: Batch, user: CurrentUser, engine: EngineDep) -> BatchOut:
    results = await engine.memories.add_many(user.id, body.memories)
    return BatchOut(memories=[MemoryOut.of(m) for m, _ in results],
                    created=sum(1 for _, new in results if new))


@router.get("", summary="List memories, newest first")
async def list_memories(
        user: CurrentUser, engine: EngineDep,
        type: Annotated[list[MemoryType] | None, Query()] = None,
        since: datetime | None = None, until: datetime | None = None,
        entity: Annotated[str | None, Query(max_length=200)] = None,
        metadata: Annotated[str | None, Query(description="JSON object, exact match")] = None,
        include_superseded: Annotated[bool, Query(description="Also the memories a later "
                                                  "one superseded")] = False,
        limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> MemoryPage:
    flt = MemoryFilter(types=type, since=aware_utc(since), until=aware_utc(until), entity=entity,
                       metadata=_metadata(metadata), include_superseded=include_superseded)
    memories, total = await engine.memories.list(user.id, flt, limit, offset)
    return MemoryPage(memories=[MemoryOut.of(m) for m in memories], total=total, limit=limit,
                      offset=offset)


@router.delete("", summary="Delete all of the caller's memories (needs confirm=true)")
async def delete_all(user: CurrentUser, engine: EngineDep,
                     confirm: bool = False) -> Deleted:
    if not confirm:
        raise BadRequest("deleting every memory needs confirm=true", param="confirm")
    return Deleted(deleted=await engine.memories.delete_all(user.id))


@router.get("/export", summary="Every memory as JSON lines",
            response_class=StreamingResponse,
            responses={200: {"description": "One memory (a MemoryOut) per line", "content": {
                "application/x-ndjson": {"schema": {"type": "array", "items": {
                    "$ref": "#/components/schemas/MemoryOut"}}}}}})
async def export(user: CurrentUser, engine: EngineDep) -> StreamingResponse:
    async def lines():
        async for record in engine.memories.export(user.id):
            yield json.dumps(record) + "\n"
    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": "attachment; "
                                      "filename=memlane-export.jsonl"})


@router.post("/import", summary="Import JSON lines (the export format)",
             description="One record per line: a line of the export, or at least "
                         "`{\"text\": ...}`. A record that cannot be imported is reported "
                         "in `errors`; the others are imported.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-ndjson": {"schema": {"type": "array", "items": {"anyOf": [
                     {"$ref": "#/components/schemas/MemoryOut"},
                     {"$ref": "#/components/schemas/MemoryCreate"}]}}}}}})
async def import_jsonl(request: Request, user: CurrentUser, engine: EngineDep) -> ImportOut:
    records = _parse_jsonl((await request.body()).decode("utf-8", errors="replace"))
    return ImportOut(**await engine.memories.import_records(user.id, records))


@router.get("/{memory_id}", summary="One memory")
async def get_memory(memory_id: str, user: CurrentUser, engine: EngineDep) -> MemoryOut:
    return MemoryOut.of(await engine.memories.get(user.id, memory_id))


@router.patch("/{memory_id}", summary="Change a memory (re-indexed when the text changes)")
async def update_memory(memory_id: str, body: Annotated[MemoryPatch, Body()],
                        user: CurrentUser, engine: EngineDep) -> MemoryOut:
    return MemoryOut.of(await engine.memories.update(user.id, memory_id, body))


@router.delete("/{memory_id}", status_code=204, summary="Forget a memory")
async def delete_memory(memory_id: str, user: CurrentUser, engine: EngineDep) -> Response:
    await engine.memories.delete(user.id, memory_id)
    return Response(status_code=204)


@router.post("/{memory_id}/restore", summary="Make a superseded memory current again",
             description="Its successor (the memory that superseded it) is superseded in "
                         "turn; both keep their texts and history. 409 if it is current.")
async def restore(memory_id: str, user: CurrentUser, engine: EngineDep) -> MemoryOut:
    return MemoryOut.of(await engine.memories.restore(user.id, memory_id))


@router.get("/{memory_id}/history", summary="Audit trail of a memory")
async def history(memory_id: str, user: CurrentUser, engine: EngineDep) -> list[HistoryOut]:
    return [HistoryOut.of(h) for h in await engine.memories.history(user.id, memory_id)]


def _metadata(raw: str | None) -> dict | None:
    if raw is None:
        return None
    try:
        value = jsonsafe.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"metadata must be a JSON object: {exc}", param="metadata") from None
    if not isinstance(value, dict):
        raise BadRequest("metadata must be a JSON object", param="metadata")
    try:
        return jsonsafe.check_filter(value)
    except ValueError as exc:
        raise Invalid(str(exc), param="metadata") from None


def _parse_jsonl(text: str) -> list[Any]:
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(jsonsafe.loads(line))
        except json.JSONDecodeError:
            raise BadRequest(f"line {n} is not valid JSON") from None
        except ValueError as exc:  # JSON, but too deep, too long a number: that record's error
            records.append(exc)
    return records
