from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ...chat.service import MAX_MESSAGE_CHARS
from ...domain import Conversation, Message
from ...schemas import MAX_OFFSET
from ..deps import CurrentUser, EngineDep
from ..sse import AnswerOut, collect, responses, stream

router = APIRouter(tags=["chat"])


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=200)
    persona: str | None = Field(None, max_length=20_000,
                                description="A character or system definition.")
    agent: str | None = Field(None, max_length=100, description="An agent from the YAML file.")
    metadata: dict[str, Any] = Field(default_factory=dict)


class ConversationOut(BaseModel):
    id: str
    title: str | None
    persona: str | None
    agent: str | None
    created_at: datetime
    updated_at: datetime
    active: bool
    metadata: dict[str, Any]


class MessageOut(BaseModel):
    id: str
    seq: int
    role: str
    content: str
    created_at: datetime
    tokens: int
    emotion: str | None
    importance: float
    metadata: dict[str, Any]

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(**{k: getattr(m, k) for k in cls.model_fields if k != "role"},
                   role=str(m.role))


class ConversationPage(BaseModel):
    conversations: list[ConversationOut]
    total: int


class ConversationHistory(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]


class ChatAnswerOut(AnswerOut):
    """A whole chat turn as one object (`stream: false`)."""
    conversation_id: str
    user_message_id: str
    message_id: str = Field(description="The reply's id")
    emotion: dict[str, Any] = Field(description="How the message read")
    remembered: list[str] = Field(
        description="Ids of the memories this message was kept as, at once (its "
                    "statements; empty for a question or a greeting)")


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(None, description="Omit to start a new one.")
    max_tokens: int | None = Field(None, ge=1, le=4096)
    stream: bool = True


def _out(engine, c: Conversation) -> ConversationOut:
    return ConversationOut(id=c.id, title=c.title, persona=c.persona, agent=c.agent,
                           created_at=c.created_at, updated_at=c.updated_at,
                           active=engine.conversations.is_active(c), metadata=c.metadata)


@router.post("/conversations", status_code=201, summary="Start a conversation (session)")
async def create(body: ConversationCreate, user: CurrentUser, engine: EngineDep
                 ) -> ConversationOut:
    c = await engine.conversations.create(user.id, title=body.title, persona=body.persona,
                                          agent=body.agent, metadata=body.metadata)
    return _out(engine, c)


@router.get("/conversations", summary="The caller's conversations, most recent first")
async def list_(user: CurrentUser, engine: EngineDep, limit: int = Query(50, ge=1, le=500),
                offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> ConversationPage:
    found, total = await engine.conversations.list(user.id, limit, offset)
    return ConversationPage(conversations=[_out(engine, c) for c in found], total=total)


@router.get("/conversations/{conversation_id}", summary="A conversation and its messages")
async def history(conversation_id: str, user: CurrentUser, engine: EngineDep,
                  limit: int | None = Query(None, ge=1, le=10_000)) -> ConversationHistory:
    c, messages = await engine.conversations.history(user.id, conversation_id, limit)
    return ConversationHistory(conversation=_out(engine, c),
                               messages=[MessageOut.of(m) for m in messages])


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete(conversation_id: str, user: CurrentUser, engine: EngineDep) -> Response:
    await engine.conversations.delete(user.id, conversation_id)
    return Response(status_code=204)


@router.post("/chat", summary="One chat turn, streamed",
             description="Saves the message and keeps what it tells as a memory at once "
                         "(source `chat`; ids in `remembered`), retrieves memories, streams "
                         "`contexts` (with the conversation id), `token` events and `done`; "
                         "a question about the user is answered only from memories. Then "
                         "extraction and summarisation run in the background.",
             responses=responses(ChatAnswerOut))
async def chat(body: ChatBody, user: CurrentUser, engine: EngineDep):
    if body.conversation_id:
        await engine.conversations.get(user.id, body.conversation_id)  # 404 before streaming
    events = engine.turns.run(user.id, body.conversation_id, body.message,
                              max_tokens=body.max_tokens)
    return stream(events) if body.stream else await collect(events)
