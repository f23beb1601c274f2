"""Personas: a conversation's character definition, chunked (200 characters, 50 overlap)
and embedded, so the parts relevant to a message are what the prompt carries."""
from __future__ import annotations

import numpy as np

from ..domain import Chunk, Conversation
from ..models.runner import ModelRunner
from ..store.base import Store

SIZE, OVERLAP = 200, 50


def persona_chunks(text: str) -> list[Chunk]:
    chunks, start = [], 0
    while start < len(text):
        end = min(len(text), start + SIZE)
        if end < len(text):
            space = text.rfind(" ", start + SIZE // 2, end)
            end = space if space > start else end
        chunks.append(Chunk(len(chunks), text[start:end].strip(), start, end))
        if end >= len(text):
            break
        start = max(end - OVERLAP, start + 1)
    return chunks


async def index_persona(store: Store, models: ModelRunner, user_id: str,
                        conversation_id: str, text: str | None) -> None:
    chunks = persona_chunks(text or "")
    if chunks:
        vectors = await models.embed([c.text for c in chunks])
        for chunk, vector in zip(chunks, vectors):
            chunk.vector = vector
    await store.replace_persona_chunks(user_id, conversation_id, chunks)


async def relevant_persona(store: Store, models: ModelRunner, conversation: Conversation,
                           query: str, budget_chars: int) -> str:
    """The whole persona when it fits; else its chunks most similar to the query, in their
    original order, up to the budget. The first chunk (who the character is) always."""
    persona = conversation.persona or ""
    if len(persona) <= budget_chars:
        return persona
    chunks = await store.persona_chunks(conversation.user_id, conversation.id)
    if not chunks:
        return persona[:budget_chars]
    q = await models.embed_query(query)
    scores = np.array([float(np.dot(c.vector, q)) for c in chunks])
    chosen, used = {0}, len(chunks[0].text)
    for i in np.argsort(-scores):
        if used + len(chunks[i].text) > budget_chars:
            continue
        chosen.add(int(i))
        used += len(chunks[i].text)
    return " … ".join(chunks[i].text for i in sorted(chosen))

