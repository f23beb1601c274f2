from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["emotions"])


class EmotionPoint(BaseModel):
    at: datetime
    emotion: str
    confidence: float | None
    source: str | None  # text, speech or fused
    importance: float
    conversation_id: str
    message_id: str
    text: str


class EmotionTimeline(BaseModel):
    conversation_id: str | None
    points: list[EmotionPoint]
    counts: dict[str, int]


@router.get("/emotions", summary="The emotion timeline of the caller, or of one conversation",
            description="What the user felt, message by message, oldest first (the last "
                        "`limit`), with a count per emotion.")
async def timeline(user: CurrentUser, engine: EngineDep,
                   conversation_id: Annotated[str | None, Query(max_length=64)] = None,
                   since: datetime | None = None, until: datetime | None = None,
                   limit: Annotated[int, Query(ge=1, le=2000)] = 500) -> EmotionTimeline:
    if conversation_id:  # 404 for another user's conversation, as for a missing one
        await engine.conversations.get(user.id, conversation_id)
    found = await engine.store.emotion_timeline(user.id, conversation_id=conversation_id,
                                                since=since, until=until, limit=limit)
    points = [EmotionPoint(at=m.created_at, emotion=m.emotion,
                           confidence=(m.metadata.get("emotion") or {}).get("confidence"),
                           source=(m.metadata.get("emotion") or {}).get("source"),
                           importance=m.importance, conversation_id=m.conversation_id,
                           message_id=m.id, text=m.content) for m in found]
    return EmotionTimeline(conversation_id=conversation_id, points=points,
                           counts=dict(Counter(p.emotion for p in points)))
