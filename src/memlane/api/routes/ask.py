from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ...chat.ask import MAX_QUESTION_CHARS
from ..deps import CurrentUser, EngineDep
from ..sse import AnswerOut, collect, responses, stream

router = APIRouter(tags=["answers"])


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    limit: int | None = Field(None, ge=1, le=50, description="At most this many memories.")
    max_tokens: int | None = Field(None, ge=1, le=4096)
    stream: bool = Field(True, description="Server-Sent Events, or one JSON object.")


@router.post("/ask", summary="Answer from the caller's memories, with citations",
             description="Streams `contexts`, then `token` events, then `done` (answer, "
                         "citations, token counts, phase timings). `stream: false` returns "
                         "the same as one JSON object.",
             responses=responses(AnswerOut))
async def ask(body: AskBody, user: CurrentUser, engine: EngineDep):
    events = engine.asker.ask(user.id, body.question.strip(), limit=body.limit,
                              max_tokens=body.max_tokens)
    return stream(events) if body.stream else await collect(events)
