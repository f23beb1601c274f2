"""Fact extraction (SPEC C): an LLM pulls atomic facts out of what the user told (the
statements of a chat turn, or a long text); each is compared with the most similar
existing memories and decided ADD / UPDATE / DELETE / NOTHING. UPDATE and DELETE
supersede: the new memory is added, the old one keeps its text and gets a validity end.
A fact, or a merged text, is kept only when it is grounded in its sources (`told`): a
small model's invented values never become the user's memories. Output is constrained by
JSON schemas; clear cases (nothing similar, or the same words already stored) skip the
LLM."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import Memory, MemoryFilter, MemoryType, Source
from ..models.llm import LLM
from ..models.runner import ModelRunner
from ..schemas import MemoryCreate
from ..store.base import Store
from .chunking import normalise_text
from .service import MemoryService
from .told import told, ungrounded

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
                  occurred_at: datetime | None = None, *,
                  exclude: frozenset[str] = frozenset()) -> list[Decision]:
        """``exclude``: memories not to compare with (the one this text was stored as)."""
        said = told(text)
        if not said:
            return []
        facts, refused = await self.facts(said)
        applied = [await self.apply(user_id, f, metadata, occurred_at, said, exclude)
                   for f in facts]
        for told_id in exclude:
            await self._consolidate(user_id, told_id, said, applied)
        return [Decision("REFUSED", f) for f in refused] + applied

    async def _consolidate(self, user_id: str, told_id: str, said: str,
                           applied: list[Decision]) -> None:
        """A chat message kept verbatim (the short-term tier) gives way to the facts drawn
        from it, when they say all it said: one current memory per fact, so a later
        correction supersedes the only copy."""
        told_as = await self.store.get_memory(user_id, told_id)
        facts = [d for d in applied if d.memory_id or d.target_id]
        if (told_as is None or told_as.source != Source.chat or told_as.valid_until
                or not facts or ungrounded(said, [d.fact for d in facts], min_words=0.7)):
            return
        successor = next((d.memory_id or d.target_id for d in facts
                          if (d.memory_id or d.target_id) != told_id), None)
        if successor is not None:
            await self.memories.end(told_as, successor, actor="extraction")

    async def facts(self, said: str) -> tuple[list[str], list[str]]:
        """The grounded facts in what was said, and the ungrounded ones refused."""
        out = await self.llm.complete_json(
            [{"role": "system", "content": FACTS_PROMPT},
             {"role": "user", "content": said[:6000]}], FACTS_SCHEMA, max_tokens=300,
            temperature=0.0)
        facts = [normalise_text(f) for f in (out or {}).get("facts", []) if isinstance(f, str)]
        facts = list(dict.fromkeys(f for f in facts if len(f) >= 8))
        refused = [f for f in facts if ungrounded(f, [said])]
        for fact in refused:
            log.info("extraction: refused an ungrounded fact (%s)", ungrounded(fact, [said]))
        return [f for f in facts if f not in refused], refused

    async def apply(self, user_id: str, fact: str, metadata: dict[str, Any],
                    occurred_at: datetime | None, said: str = "",
                    exclude: frozenset[str] = frozenset()) -> Decision:
        similar = [(m, s) for m, s in await self._similar(user_id, fact) if m.id not in exclude]
        if any(normalise_text(m.text).lower() == fact.lower() for m, _ in similar):
            return Decision("NOTHING", fact, target_id=similar[0][0].id)
        if not similar:
            return await self._add(user_id, fact, metadata, occurred_at)
        if similar[0][1] >= self.same:
            return Decision("NOTHING", fact, target_id=similar[0][0].id)
        event, target, text = await self._decide(fact, [m for m, _ in similar])
        if event == "ADD" or target is None:
            return await self._add(user_id, fact, metadata, occurred_at)
        if event in ("UPDATE", "DELETE"):
            sources = [said or fact, target.text] if event == "UPDATE" else [said or fact]
            text = text if not ungrounded(text, sources) else fact
            new = await self.memories.supersede(user_id, target, self._item(
                text, metadata, occurred_at), actor="extraction")
            return Decision(event, text, new.id, target.id)
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
        memory, _ = await self.memories.add(user_id, self._item(fact, metadata, occurred_at),
                                            actor="extraction")
        return Decision("ADD", fact, memory.id)

    @staticmethod
    def _item(text: str, metadata: dict[str, Any], occurred_at: datetime | None
              ) -> MemoryCreate:
        return MemoryCreate(text=text, type=MemoryType.semantic, source=Source.extraction,
                            metadata=metadata, occurred_at=occurred_at)


def _own_words(text: str, fact: str) -> str:
    """The model's text when it carries the new fact's words, else the fact itself (a small
    model sometimes echoes the instructions instead of writing the fact)."""
    words = {w for w in _WORDS.findall(fact.lower()) if len(w) > 2}
    kept = words & set(_WORDS.findall(text.lower()))
    return text if words and len(kept) >= len(words) / 2 else fact
