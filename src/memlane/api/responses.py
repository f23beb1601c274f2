"""OpenAI's Responses API: `POST /v1/responses`, grounded on the caller's memories like
`/v1/chat/completions`, continuing a stored thread with `previous_response_id`. Streamed
as the documented typed events: response.created, response.in_progress,
response.output_item.added, response.content_part.added, response.output_text.delta…,
response.output_text.done, response.content_part.done, response.output_item.done,
response.completed (or an `error` event once the stream has started)."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel, ConfigDict, Field

from ..domain import Conversation
from ..errors import BadRequest, MemlaneError
from ..models.llm import Delta, Usage
from ..timing import Phases
from .deps import CurrentUser, EngineDep
from .errors import openai_error
from .openai import CHAT_MODEL, Finish, ModelNotFound, collect

log = logging.getLogger(__name__)
router = APIRouter(tags=["openai"])
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
TEXT_PARTS = {"input_text", "output_text", "text"}


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[dict[str, Any]]


class ResponsesBody(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send many optional fields
    model: str = Field(examples=[CHAT_MODEL])
    input: str | list[InputMessage] = Field(min_length=1)
    instructions: str | None = None
    previous_response_id: str | None = None
    stream: bool = False
    store: bool = True
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    user: str | None = Field(None, description="Whose memory to use: honoured only when "
                                               "the key is an admin's and the user exists.")
    metadata: dict[str, str] | None = None


@router.post("/responses", summary="A response, grounded on the caller's memories",
             responses={200: {"description": "A response object, or with `stream: true` "
                              "its events", "content": {"text/event-stream": {}}}})
async def create_response(body: ResponsesBody, user: CurrentUser, engine: EngineDep):
    if body.model != CHAT_MODEL:
        raise ModelNotFound(f"'{body.model}' is not a chat model; use '{CHAT_MODEL}'",
                            param="model")
    said = _said(body.input)
    s = engine.settings
    max_tokens = body.max_output_tokens or s.llm_max_tokens
    user_id = await engine.accounts.acting_for(user, body.user)
    history = await engine.threads.history(user_id, body.previous_response_id)
    system = [{"role": "system", "content": body.instructions}] if body.instructions else []
    phases = Phases()
    deltas = await engine.completion(
        user_id, [*system, *history, *said], phases=phases, door="responses",
        max_tokens=max_tokens,
        temperature=s.llm_temperature if body.temperature is None else body.temperature)
    reply = Reply(body, Finish(engine, user_id, phases))
    if body.store:
        reply.thread, reply.id = await engine.threads.begin(user_id, body.previous_response_id,
                                                             said)
    if not body.stream:
        with phases.span("generation"):
            text, finish, usage = await collect(deltas, phases)
        return await reply.finished(text, finish, usage)
    with phases.span("generation"):
        first = await anext(deltas, Delta(finish_reason="stop"))  # errors keep the status
    phases.since_start("first_token")
    return EventSourceResponse(_events(reply, first, deltas),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _said(given: str | list[InputMessage]) -> list[dict[str, str]]:
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    return [{"role": ROLES[m.role], "content": _text(m.content, i)}
            for i, m in enumerate(given)]


def _text(content: str | list[dict[str, Any]], index: int) -> str:
    if isinstance(content, str):
        return content
    if any(part.get("type") not in TEXT_PARTS for part in content):
        raise BadRequest("only text input is supported", param=f"input.{index}.content")
    return "".join(str(part.get("text") or "") for part in content)


class Reply:
    """One response: its ids and creation time (seconds), the response object in each
    state, and what happens when it is finished (stored in its thread, recorded)."""

    def __init__(self, body: ResponsesBody, finish: Finish):
        self.body, self.finish = body, finish
        self.id, self.created = f"resp_{uuid.uuid4().hex}", int(time.time())
        self.message_id = f"msg_{uuid.uuid4().hex}"
        self.thread: Conversation | None = None  # where it is stored (store: true)

    async def finished(self, text: str, finish: str, usage: Usage) -> dict[str, Any]:
        if self.thread is not None:
            await self.finish.engine.threads.reply(self.thread, text)
        await self.finish(usage)
        status = "incomplete" if finish == "length" else "completed"
        return self.response(status, [self.message(text, "completed")], usage)

    def message(self, text: str | None, status: str) -> dict[str, Any]:
        content = [] if text is None else [self.part(text)]
        return {"type": "message", "id": self.message_id, "status": status,
                "role": "assistant", "content": content}

    @staticmethod
    def part(text: str) -> dict[str, Any]:
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}

    def response(self, status: str, output: list, usage: Usage | None = None) -> dict:
        b = self.body
        return {"id": self.id, "object": "response", "created_at": self.created,
                "status": status, "model": b.model, "output": output,
                "instructions": b.instructions, "previous_response_id": b.previous_response_id,
                "max_output_tokens": b.max_output_tokens, "temperature": b.temperature,
                "top_p": None, "parallel_tool_calls": False, "tool_choice": "auto",
                "tools": [], "text": {"format": {"type": "text"}}, "store": b.store,
                "metadata": b.metadata or {}, "error": None,
                "incomplete_details": ({"reason": "max_output_tokens"}
                                       if status == "incomplete" else None),
                "usage": _usage(usage) if usage else None}


def _usage(usage: Usage) -> dict[str, Any]:
    return {"input_tokens": usage.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.total_tokens}


async def _events(reply: Reply, first: Delta, deltas: AsyncIterator[Delta]
                  ) -> AsyncIterator[str]:
    sequence = iter(range(1_000_000))
    where = {"item_id": reply.message_id, "output_index": 0}

    def event(kind: str, **data: Any) -> str:
        payload = {"type": kind, "sequence_number": next(sequence), **data}
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"

    yield event("response.created", response=reply.response("in_progress", []))
    yield event("response.in_progress", response=reply.response("in_progress", []))
    yield event("response.output_item.added", output_index=0,
                item=reply.message(None, "in_progress"))
    yield event("response.content_part.added", **where, content_index=0, part=reply.part(""))
    parts, finish, usage = [], "stop", Usage()
    try:
        delta: Delta | None = first
        while delta is not None:
            if delta.text:
                parts.append(delta.text)
                yield event("response.output_text.delta", **where, content_index=0,
                            delta=delta.text, logprobs=[])
            if delta.finish_reason:
                finish, usage = delta.finish_reason, delta.usage or usage
            with reply.finish.phases.span("generation"):
                delta = await anext(deltas, None)
        done = await reply.finished("".join(parts), finish, usage)
    except Exception as exc:  # the status line is sent: the error goes in the stream
        if not isinstance(exc, MemlaneError):
            log.exception("response stream failed")
        error = openai_error(exc)["error"]
        yield event("error", code=error["code"], message=error["message"],
                    param=error["param"])
        return
    finally:
        await deltas.aclose()
    text = "".join(parts)
    yield event("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
    yield event("response.content_part.done", **where, content_index=0, part=reply.part(text))
    yield event("response.output_item.done", output_index=0, item=done["output"][0])
    yield event("response.incomplete" if done["status"] == "incomplete"
                else "response.completed", response=done)
