"""Recall: the memories an agent should see before its next turn, found from the
conversation so far. The query is the last user message, with the message before it when
the last one is too short to search by on its own ("and her sister?")."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain import Memory, utcnow
from ..errors import Invalid
from ..memory.context import render_memories
from ..timing import Phases
from . import prompts
from .ask import Asker
from .events import ContextItem

SHORT_WORDS = 6  # a last message with fewer words is searched with the one before it
MAX_QUERY_CHARS = 2000


@dataclass
class Recall:
    query: str
    items: list[ContextItem]
    memories: dict[str, Memory]
    context: str  # a memory section ready for a system prompt (empty when nothing fits)


def recall_query(messages: list[dict[str, str]]) -> str:
    said = [m for m in messages if (m.get("content") or "").strip()]
    users = [i for i, m in enumerate(said) if m.get("role") == "user"]
    if not users:
        raise Invalid("recall needs at least one user message with text", param="messages")
    last = users[-1]
    query = said[last]["content"].strip()
    if len(query.split()) < SHORT_WORDS and last > 0:
        query = f"{said[last - 1]['content'].strip()}\n{query}"
    return query[-MAX_QUERY_CHARS:]


async def recall(asker: Asker, user_id: str, messages: list[dict[str, str]], *,
                 limit: int | None = None, max_tokens: int = 512) -> Recall:
    query = recall_query(messages)
    items, memories = await asker.contexts(user_id, query, Phases(), limit=limit,
                                           max_tokens=max_tokens)
    rendered = render_memories(items, memories)
    context = (f"{prompts.MEMORY_NOTE}\n"
               f"{prompts.memory_section(rendered, utcnow().strftime('%d %B %Y'))}"
               if items else "")
    return Recall(query, items, memories, context)
