"""Fact extraction (SPEC C): an LLM pulls atomic facts out of a chat turn or a long text;
each is compared with the most similar existing memories and decided ADD / UPDATE /
DELETE (supersede: the old memory gets a validity end and stays, the new one is added) /
NOTHING. Output is constrained by JSON schemas, so the small local model manages it;
clear cases (nothing similar, or the same words already stored) skip the LLM."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain import Memory, MemoryFilter, MemoryType, Source, utcnow
from ..models.llm import LLM
from ..models.runner import ModelRunner
from ..schemas import MemoryCreate, MemoryPatch
from ..store.base import Store
from .chunking import normalise_text
from .service import MemoryService

log = logging.getLogger(__name__)
_WORDS = re.compile(r"[a-z0-9']+")

FACTS_SCHEMA = {"type": "object", "required": ["facts"], "properties": {
    "facts": {"type": "array", "maxItems": 6, "items": {"type": "string", "maxLength": 300}}}}
DECISION_SCHEMA = {"type": "object", "required": ["event", "target", "text"], "properties": {
    "event": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NOTHING"]},
    "target": {"type": "integer"}, "text": {"type": "string", "maxLength": 300}}}

FACTS_PROMPT = (
    "Extract the facts worth remembering about the user from the user's message. Write each "
    "fact as one short sentence in the first person, as the user would say it, for example "
    "\"My sister's birthday is June 14th.\" Only facts the user stated about themselves, "
    "their life, people, plans and preferences. No questions, greetings or small talk. "
    "If there is nothing worth remembering, return an empty list.")
DECIDE_PROMPT = (
    "Decide how a new fact changes the user's memory. The existing memories most like it "
    "are numbered. Reply with JSON {\"event\", \"target\", \"text\"}:\n"
    "ADD, target 0: the new fact is about something the memories do not cover. "
    "text: the new fact.\n"
    "UPDATE, target N: the new fact adds detail to memory N without contradicting it. "
    "text: one sentence that says both.\n"
    "DELETE, target N: the new fact contradicts memory N (it changed or was wrong). "
    "text: the new fact.\n"
    "NOTHING, target N: memory N already says the same. text: the new fact.\n"
    "Example: memories \"1. I live in Paris.\" and new fact \"I moved to Berlin.\" give "
    "{\"event\": \"DELETE\", \"target\": 1, \"text\": \"I moved to Berlin.\"}")


@dataclass
class Decision:
    event: str
    fact: str
    memory_id: str | None = None  # the new or updated memory
    target_id: str | None = None  # the existing memory it was compared with

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "fact": self.fact, "memory_id": self.memory_id,
                "target_id": self.target_id}


class Extractor:
    def __init__(self, memories: MemoryService, store: Store, models: ModelRunner, llm: LLM,
                 *, similar: float = 0.5, same: float = 0.97):
        self.memories, self.store, self.models, self.llm = memories, store, models, llm
        self.similar, self.same = similar, same

    async def run(self, user_id: str, text: str, metadata: dict[str, Any],
                  occurred_at: datetime | None = None) -> list[Decision]:
        facts = await self.facts(text)
        return [await self.apply(user_id, f, metadata, occurred_at) for f in facts]

    async def facts(self, text: str) -> list[str]:
        out = await self.llm.complete_json(
            [{"role": "system", "content": FACTS_PROMPT},
             {"role": "user", "content": text[:6000]}], FACTS_SCHEMA, max_tokens=300,
            temperature=0.0)
        facts = [normalise_text(f) for f in (out or {}).get("facts", []) if isinstance(f, str)]
        return list(dict.fromkeys(f for f in facts if len(f) >= 8))

    async def apply(self, user_id: str, fact: str, metadata: dict[str, Any],
                    occurred_at: datetime | None) -> Decision:
        similar = await self._similar(user_id, fact)
        if any(normalise_text(m.text).lower() == fact.lower() for m, _ in similar):
            return Decision("NOTHING", fact, target_id=similar[0][0].id)
        if not similar:
            return await self._add(user_id, fact, metadata, occurred_at)
        if similar[0][1] >= self.same:
            return Decision("NOTHING", fact, target_id=similar[0][0].id)
        event, target, text = await self._decide(fact, [m for m, _ in similar])
        if event == "ADD" or target is None:
            return await self._add(user_id, fact, metadata, occurred_at)
        if event == "UPDATE":
            updated = await self.memories.update(user_id, target.id, MemoryPatch(text=text),
                                                 actor="extraction")
            return Decision("UPDATE", text, updated.id, target.id)
        if event == "DELETE":
            return await self._supersede(user_id, target, text, metadata, occurred_at)
        return Decision("NOTHING", fact, target_id=target.id)

    async def _similar(self, user_id: str, fact: str) -> list[tuple[Memory, float]]:
        vector = await self.models.embed_query(fact)
        hits = await self.store.vector_search(user_id, vector, MemoryFilter(), 5)
        hits = [h for h in hits if h.score >= self.similar]
        found = await self.store.get_memories(user_id, [h.memory_id for h in hits])
        return [(found[h.memory_id], h.score) for h in hits if h.memory_id in found]

    async def _decide(self, fact: str, candidates: list[Memory]
                      ) -> tuple[str, Memory | None, str]:
        listed = "\n".join(f"{i}. {m.text}" for i, m in enumerate(candidates, start=1))
        out = await self.llm.complete_json(
            [{"role": "system", "content": DECIDE_PROMPT},
             {"role": "user", "content": f"Existing memories:\n{listed}\n\nNew fact: {fact}"}],
            DECISION_SCHEMA, max_tokens=150, temperature=0.0)
        event = str(out.get("event", "ADD")).upper()
        target = out.get("target")
        chosen = (candidates[target - 1] if isinstance(target, int)
                  and 1 <= target <= len(candidates) else None)
        return event, chosen, _own_words(normalise_text(str(out.get("text") or "")), fact)

    async def _add(self, user_id: str, fact: str, metadata: dict[str, Any],
                   occurred_at: datetime | None) -> Decision:
        memory, _ = await self.memories.add(user_id, MemoryCreate(
            text=fact, type=MemoryType.semantic, source=Source.extraction,
            metadata=metadata, occurred_at=occurred_at), actor="extraction")
        return Decision("ADD", fact, memory.id)

    async def _supersede(self, user_id: str, old: Memory, text: str,
                         metadata: dict[str, Any], occurred_at: datetime | None) -> Decision:
        added = await self._add(user_id, text, {**metadata, "supersedes": old.id}, occurred_at)
        now = utcnow()
        ended = replace(old, valid_until=now, updated_at=now,
                        metadata={**old.metadata, "superseded_by": added.memory_id})
        await self.store.update_memory(ended, old_text=old.text, actor="extraction")
        return Decision("DELETE", text, added.memory_id, old.id)


def _own_words(text: str, fact: str) -> str:
    """The model's text when it carries the new fact's words, else the fact itself (a small
    model sometimes echoes the instructions instead of writing the fact)."""
    words = {w for w in _WORDS.findall(fact.lower()) if len(w) > 2}
    kept = words & set(_WORDS.findall(text.lower()))
    return text if words and len(kept) >= len(words) / 2 else fact
