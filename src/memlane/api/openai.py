"""The OpenAI-compatible door: `/v1/chat/completions` with the caller's memories injected,
`/v1/models` and `/v1/embeddings`. Errors take OpenAI's shape (see `errors.py`)."""
from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel, ConfigDict, Field

from ..engine import Engine
from ..errors import BadRequest, MemlaneError, NotFound, PayloadTooLarge
from ..models.llm import Delta, Usage
from ..schemas import UsageOut
from ..timing import Phases
from .deps import CurrentUser, EngineDep
from .errors import OpenAIError, openai_error
from .openapi import inline

log = logging.getLogger(__name__)
router = APIRouter(tags=["openai"])

CHAT_MODEL = "memlane"


class ModelNotFound(NotFound):
    code = "model_not_found"


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send many optional fields


class ChatMessage(Open):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None

    def text(self, index: int) -> str:
        if not isinstance(self.content, list):
            return self.content or ""
        if any(part.get("type") != "text" for part in self.content):
            raise BadRequest("only text content parts are supported",
                             param=f"messages.{index}.content")
        return "".join(str(part.get("text") or "") for part in self.content)


class ChatBody(Open):
    model: str = Field(examples=[CHAT_MODEL])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    stop: str | list[str] | None = None
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is generated.")
    user: str | None = Field(None, description="Whose memory to use: honoured only when "
                                               "the key is an admin's and the user exists.")
    stream_options: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class EmbeddingsBody(Open):
    model: str = Field(description="The server's embedding model, as `/v1/models` lists it")
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class CompletionChoice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: UsageOut


class ChunkChoice(BaseModel):
    index: int
    delta: dict[str, Any]
    finish_reason: str | None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: UsageOut | None = None


class Embedding(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 little-endian float32")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"]
    model: str
    data: list[Embedding]
    usage: EmbeddingUsage


CHUNKS = {"type": "object", "required": ["data"], "properties": {"data": {"anyOf": [
    {"const": "[DONE]"},
    {"type": "string", "contentMediaType": "application/json",
     "contentSchema": {"anyOf": [inline(ChatCompletionChunk), inline(OpenAIError)]}}]}}}


@router.get("/models", summary="The chat model and the embedding model",
            responses={200: {"model": ModelList}})
async def list_models(user: CurrentUser, engine: EngineDep) -> dict:
    return {"object": "list", "data": _models(engine)}


@router.get("/models/{model_id}", summary="One model", responses={200: {"model": ModelCard}})
async def get_model(model_id: str, user: CurrentUser, engine: EngineDep) -> dict:
    for model in _models(engine):
        if model["id"] == model_id:
            return model
    raise ModelNotFound(f"the model '{model_id}' does not exist", param="model")


@router.post("/chat/completions", summary="Chat, grounded on the caller's memories",
             responses={200: {"model": ChatCompletion, "description": "A completion, or with "
                              "`stream: true` its chunks, then `[DONE]`",
                              "content": {"text/event-stream": {"itemSchema": CHUNKS}}}})
async def chat_completions(body: ChatBody, user: CurrentUser, engine: EngineDep):
    if body.model != CHAT_MODEL:
        error = BadRequest if body.model == engine.models.embedder.name else ModelNotFound
        raise error(f"'{body.model}' is not a chat model; use '{CHAT_MODEL}'", param="model")
    messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text(i)}
                for i, m in enumerate(body.messages)]
    s = engine.settings
    max_tokens = body.max_completion_tokens or body.max_tokens or s.llm_max_tokens
    options = {"max_tokens": max_tokens, "json_schema": _schema(body.response_format),
               "temperature": s.llm_temperature if body.temperature is None else body.temperature,
               "stop": [body.stop] if isinstance(body.stop, str) else body.stop}
    user_id = await engine.accounts.acting_for(user, body.user)
    phases = Phases()
    deltas = await engine.completion(user_id, messages, phases=phases, **options)
    reply, done = Reply(body.model), Finish(engine, user_id, phases)
    if not body.stream:
        with phases.span("generation"):
            text, finish, usage = await collect(deltas, phases)
        await done(usage)
        return reply.completion(text, finish, usage)
    with phases.span("generation"):
        first = await anext(deltas, Delta(finish_reason="stop"))  # errors keep the status
    phases.since_start("first_token")
    include_usage = bool((body.stream_options or {}).get("include_usage"))
    events = _stream(reply, first, deltas, include_usage, done)
    return EventSourceResponse(events, headers={"Cache-Control": "no-cache",
                                                "X-Accel-Buffering": "no"})


@router.post("/embeddings", summary="Embed texts with the server's embedding model",
             responses={200: {"model": EmbeddingList}})
async def embeddings(body: EmbeddingsBody, user: CurrentUser, engine: EngineDep) -> dict:
    embedder, settings = engine.models.embedder, engine.settings
    if body.model != embedder.name:
        raise ModelNotFound(f"the embedding model is '{embedder.name}', not '{body.model}'",
                            param="model")
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or not all(isinstance(t, str) for t in texts):
        raise BadRequest("input must be a string or a non-empty list of strings "
                         "(token arrays are not supported)", param="input")
    if len(texts) > settings.max_batch:
        raise PayloadTooLarge(f"at most {settings.max_batch} inputs", param="input")
    if any(len(t) > settings.max_text_chars for t in texts):
        raise PayloadTooLarge(f"an input exceeds {settings.max_text_chars} characters",
                              param="input")
    if body.dimensions is not None and body.dimensions != embedder.dim:
        raise BadRequest(f"'{embedder.name}' has {embedder.dim} dimensions",
                         param="dimensions")
    matrix = await engine.models.embed(texts)
    tokens = sum(max(1, len(t) // 4) for t in texts)  # an estimate, as LLM.count_tokens
    vectors = [_encode(row, body.encoding_format) for row in matrix]
    return {"object": "list", "model": embedder.name,
            "data": [{"object": "embedding", "index": i, "embedding": v}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class Reply:
    """One completion's id and creation time (seconds), shared by all its chunks."""

    def __init__(self, model: str):
        self.id, self.created, self.model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model

    def completion(self, text: str, finish: str, usage: Usage) -> dict:
        choice = {"index": 0, "message": {"role": "assistant", "content": text},
                  "finish_reason": finish}
        return {**self._head("chat.completion"), "choices": [choice], "usage": usage.as_dict()}

    def chunk(self, delta: dict | None = None, finish: str | None = None,
              usage: Usage | None = None) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        extra = {} if usage is None else {"usage": usage.as_dict()}
        return _data({**self._head("chat.completion.chunk"), "choices": choices, **extra})

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}


async def _stream(reply: Reply, first: Delta, deltas: AsyncIterator[Delta],
                  include_usage: bool, done: Finish) -> AsyncIterator[str]:
    yield reply.chunk({"role": "assistant", "content": ""})
    finish, usage = "stop", Usage()
    try:
        delta: Delta | None = first
        while delta is not None:
            if delta.text:
                yield reply.chunk({"content": delta.text})
            if delta.finish_reason:
                finish, usage = delta.finish_reason, delta.usage or usage
            with done.phases.span("generation"):
                delta = await anext(deltas, None)
    except Exception as exc:  # the status line is sent: the error goes in the stream
        if not isinstance(exc, MemlaneError):
            log.exception("chat completion stream failed")
        yield _data(openai_error(exc))
    else:
        yield reply.chunk({}, finish)
        if include_usage:
            yield reply.chunk(usage=usage)
        await done(usage)
    finally:
        await deltas.aclose()
    yield "data: [DONE]\n\n"


async def collect(deltas: AsyncIterator[Delta], phases: Phases) -> tuple[str, str, Usage]:
    parts, finish, usage = [], "stop", Usage()
    async for delta in deltas:
        if delta.text and not parts:
            phases.since_start("first_token")
        parts.append(delta.text)
        if delta.finish_reason:
            finish, usage = delta.finish_reason, delta.usage or usage
    return "".join(parts), finish, usage


class Finish:
    """After a completion: record its analytics."""

    def __init__(self, engine: Engine, user_id: str, phases: Phases):
        self.engine, self.user_id, self.phases = engine, user_id, phases

    async def __call__(self, usage: Usage) -> None:
        self.engine.analytics.record("completion", self.user_id, self.phases.total(),
                                     self.phases.hits, usage=usage)


def _schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    kind = (response_format or {}).get("type", "text")
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise BadRequest("response_format.json_schema.schema must be an object",
                             param="response_format")
        return schema
    if kind != "text":
        raise BadRequest(f"unknown response_format type '{kind}'", param="response_format")
    return None


def _models(engine: Engine) -> list[dict]:
    created = int(engine.started_at or time.time())
    return [{"id": name, "object": "model", "created": created, "owned_by": "memlane"}
            for name in (CHAT_MODEL, engine.models.embedder.name)]


def _encode(row, encoding: str) -> list[float] | str:
    """base64 is little-endian float32 bytes, which the openai client decodes."""
    return (base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
            if encoding == "base64" else row.tolist())



def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload)}\n\n"
