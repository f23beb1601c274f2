"""Import an export or a transcript: the file is the request body (streamed to a
temporary file, never held in memory), read by the engine's importers."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ...errors import PayloadTooLarge
from ...importers import Format
from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["memories"])


class ImportSummary(BaseModel):
    imported: int
    existing: int
    conversations: int
    errors: list[dict[str, Any]]


@router.post("/import", summary="Import a ChatGPT or Claude export, a transcript, or files",
             description="The body is the file: `conversations.json` or the export `.zip` "
                         "(ChatGPT, Claude), a chat transcript (`Speaker: text` lines, "
                         "WhatsApp), memlane JSON lines, or a text or markdown file. "
                         "Importing the same file again adds nothing.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}})
async def import_file(
        request: Request, user: CurrentUser, engine: EngineDep,
        format: Format = "auto",
        filename: Annotated[str | None, Query(max_length=255, description=(
            "The file's name: a transcript's conversation id"))] = None,
        me: Annotated[str | None, Query(max_length=60, description=(
            "Your name in a transcript: your messages count as the user's"))] = None,
        extract: Annotated[bool, Query(description="Queue fact extraction from what the "
                                                   "user said")] = False) -> ImportSummary:
    limit = engine.settings.max_import_bytes
    folder = engine.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".import") as spool:
        await _spool(request, spool, limit)
        return ImportSummary(**await engine.importer.import_file(
            user.id, Path(spool.name), format, name=filename or "upload", me=me,
            extract=extract))


async def _spool(request: Request, spool, limit: int) -> None:
    written = 0
    async for chunk in request.stream():
        written += len(chunk)
        if written > limit:
            raise PayloadTooLarge(f"an import is at most {limit} bytes")
        spool.write(chunk)
    spool.flush()
