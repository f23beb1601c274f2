"""The MCP tools: each parses its typed arguments, asks the engine, and returns a typed
result. Engine errors become MCP tool errors (``isError``) carrying the same message (and
status and code) as REST would send; they are never text inside a success."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from .. import __version__
from ..chat.events import whole
from ..domain import MemoryFilter, MemoryType, User
from ..engine import Engine
from ..errors import Invalid, MemlaneError
from ..memory.service import first_error
from ..schemas import (
    MAX_RESULTS,
    MemoryCreate,
    MemoryOut,
    MemoryPatch,
    SearchFilters,
    SearchQuery,
    aware_utc,
)
from .shapes import (
    AnswerOut,
    Forgotten,
    Found,
    MemoryPage,
    RecallOut,
    Remembered,
    SearchOut,
    Turn,
    cited,
)

Identify = Callable[[Context], Awaitable[User]]
INSTRUCTIONS = (
    "memlane is the user's long-term memory. Before answering, call `recall` with the "
    "conversation so far and use what it returns; `remember` what the user tells you that "
    "is worth keeping (facts, preferences, plans); `search` or `ask` to look something up.")
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DELETE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                         open_world_hint=False)

MemoryId = Annotated[str, Field(min_length=1, max_length=200, description="A memory's id")]
Limit = Annotated[int, Field(ge=1, le=MAX_RESULTS)]


def tool_error(exc: MemlaneError) -> CallToolResult:
    """The REST error as an MCP tool error: the message for the model, and the status and
    code in the structured content for programs."""
    detail = {"detail": exc.message, "code": exc.code, "status": exc.status,
              **({"param": exc.param} if exc.param else {})}
    return CallToolResult(content=[TextContent(type="text", text=exc.message)],
                          structured_content=detail, is_error=True)


def door(fn):
    """Engine errors (and input the engine's own shapes refuse) as tool errors."""
    @functools.wraps(fn)
    async def call(*args, **kwargs):
        try:
            return await fn(*args, **kwargs)
        except MemlaneError as exc:
            return tool_error(exc)
        except ValidationError as exc:
            return tool_error(Invalid(first_error(exc)))
    return call


def build(engine: Engine, identify: Identify) -> MCPServer:
    """An MCP server whose tools act for the user that ``identify`` names."""
    server = MCPServer("memlane", version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING")
    for fn, hints in _tools(engine, identify):
        server.add_tool(fn, name=fn.__name__.rstrip("_"), annotations=hints,
                        description=fn.__doc__, structured_output=True)
    return server


def _tools(engine: Engine, identify: Identify) -> list[tuple[Callable, ToolAnnotations]]:
    @door
    async def remember(
            ctx: Context, text: Annotated[str, Field(min_length=1, description="What to remember")],
            type: MemoryType = MemoryType.semantic,
            metadata: dict[str, Any] | None = None,
            occurred_at: Annotated[datetime | None, Field(
                description="When it happened (ISO 8601)")] = None) -> Remembered:
        """Remember something about the user (a fact, preference, event or how-to)."""
        user = await identify(ctx)
        item = MemoryCreate(text=text, type=type, metadata=metadata or {},
                            occurred_at=occurred_at)
        memory, created = await engine.memories.add(user.id, item)
        return Remembered(memory=MemoryOut.of(memory), created=created)

    @door
    async def search(ctx: Context, query: Annotated[str, Field(min_length=1, max_length=2000)],
                     limit: Limit = 10, types: list[MemoryType] | None = None,
                     filters: SearchFilters | None = None) -> SearchOut:
        """Search the user's memories by meaning, words, names and time."""
        user = await identify(ctx)
        outcome = await engine.search(user.id, SearchQuery(query=query, limit=limit,
                                                           types=types, filters=filters))
        return SearchOut(results=[Found(memory=MemoryOut.of(r.memory), score=r.score)
                                  for r in outcome.results])

    @door
    async def ask(ctx: Context, question: Annotated[str, Field(min_length=1)],
                  limit: Annotated[int | None, Field(ge=1, le=50)] = None) -> AnswerOut:
        """Answer a question from the user's memories, citing the memories used."""
        user = await identify(ctx)
        contexts, done = await whole(engine.asker.ask(user.id, question, limit=limit))
        return AnswerOut(answer=done.answer, known=done.known,
                         citations=cited(contexts.items, done.citations))

    @door
    async def list_(ctx: Context, limit: Limit = 20, offset: Annotated[int, Field(ge=0)] = 0,
                    types: list[MemoryType] | None = None, since: datetime | None = None,
                    until: datetime | None = None, entity: str | None = None,
                    metadata: dict[str, Any] | None = None) -> MemoryPage:
        """List the user's memories, newest first."""
        user = await identify(ctx)
        flt = MemoryFilter(types=types, since=aware_utc(since), until=aware_utc(until),
                           entity=entity, metadata=metadata)
        memories, total = await engine.memories.list(user.id, flt, limit, offset)
        return MemoryPage(memories=[MemoryOut.of(m) for m in memories], total=total,
                          limit=limit, offset=offset)

    @door
    async def get(ctx: Context, memory_id: MemoryId) -> MemoryOut:
        """One memory by id."""
        user = await identify(ctx)
        return MemoryOut.of(await engine.memories.get(user.id, memory_id))

    @door
    async def update(ctx: Context, memory_id: MemoryId, text: str | None = None,
                     type: MemoryType | None = None, metadata: dict[str, Any] | None = None,
                     occurred_at: datetime | None = None,
                     importance: Annotated[float | None, Field(ge=0, le=1)] = None
                     ) -> MemoryOut:
        """Correct a memory: only the fields given change."""
        user = await identify(ctx)
        given = {"text": text, "type": type, "metadata": metadata,
                 "occurred_at": occurred_at, "importance": importance}
        patch = MemoryPatch(**{k: v for k, v in given.items() if v is not None})
        return MemoryOut.of(await engine.memories.update(user.id, memory_id, patch))

    @door
    async def forget(ctx: Context, memory_id: MemoryId) -> Forgotten:
        """Forget one memory for good."""
        user = await identify(ctx)
        await engine.memories.delete(user.id, memory_id)
        return Forgotten(deleted=memory_id)

    @door
    async def recall(ctx: Context, messages: Annotated[list[Turn], Field(
                         min_length=1, description="The conversation so far, oldest first")],
                     limit: Annotated[int | None, Field(ge=1, le=50)] = None) -> RecallOut:
        """Before replying in a conversation: the memories relevant to it, as a context
        block to add to the prompt, and each memory with its id."""
        user = await identify(ctx)
        found = await engine.recall(user.id, [m.model_dump() for m in messages], limit)
        return RecallOut(context=found.context, memories=cited(found.items))

    return [(remember, WRITE), (search, READ), (ask, READ), (list_, READ), (get, READ),
            (update, WRITE), (forget, DELETE), (recall, READ)]
