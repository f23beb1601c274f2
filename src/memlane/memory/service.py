"""Memories: add (one or batch; idempotent, deduplicated), get, list, update, delete,
history, export and import. The doors call this; it knows nothing of HTTP."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..config import Settings
from ..domain import HistoryEntry, Memory, MemoryFilter, MemoryType, Source, utcnow
from ..emotion.service import Emotions
from ..errors import Conflict, Invalid, NotFound, PayloadTooLarge
from ..models.runner import ModelRunner
from ..schemas import MemoryCreate, MemoryOut, MemoryPatch
from ..store.base import Store
from .chunking import content_hash
from .ingest import prepare
from .told import told


class MemoryService:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner,
                 emotions: Emotions):
        self.settings, self.store, self.models, self.emotions = settings, store, models, emotions
        self.after_add: list[Callable[[Memory], Awaitable[None]]] = []  # e.g. extraction

    async def add(self, user_id: str, item: MemoryCreate, actor: str = "user"
                  ) -> tuple[Memory, bool]:
        """The stored memory and whether it was created (False: an existing one)."""
        return (await self.add_many(user_id, [item], actor))[0]

    async def add_many(self, user_id: str, items: list[MemoryCreate], actor: str = "user"
                       ) -> list[tuple[Memory, bool]]:
        if len(items) > self.settings.max_batch:
            raise PayloadTooLarge(f"at most {self.settings.max_batch} memories per batch")
        for i, item in enumerate(items):
            self._check_size(item.text, f"memories[{i}].text" if len(items) > 1 else "text")
        results: list[tuple[Memory, bool] | None] = [await self._existing(user_id, it)
                                                      for it in items]
        first = _first_of_each(items, results)
        todo = sorted(set(first.values()))
        prepared = await prepare([items[i].text for i in todo], self.models, self.settings,
                                 [items[i].metadata for i in todo])
        built = [(i, readable(self._memory(user_id, items[i], prep)), prep)
                 for i, prep in zip(todo, prepared)]  # every one checked before any is stored
        for i, memory, prep in built:
            stored = await self.store.insert_memory(memory, prep.chunks, prep.mentions,
                                                    actor=actor)
            results[i] = (stored, True)
            for hook in self.after_add:
                await hook(stored)
        for i, j in first.items():  # a repeat inside the batch gets the first one's memory
            if i != j:
                results[i] = (results[j][0], False)
        return results  # type: ignore[return-value]

    async def _existing(self, user_id: str, item: MemoryCreate) -> tuple[Memory, bool] | None:
        found = None
        if item.client_id:
            found = await self.store.find_memory(user_id, client_id=item.client_id)
        if found is None:
            found = await self.store.find_memory(user_id, content_hash=content_hash(item.text))
            if found is not None and found.valid_until is not None:
                found = None  # told again after it was superseded: current once more
        return (found, False) if found else None

    def _memory(self, user_id: str, item: MemoryCreate, prep) -> Memory:
        now = utcnow()
        s = self.settings
        reading = self.emotions.detect_vectors(np.stack([prep.chunks[0].vector]))[0]
        return Memory(
            id=uuid.uuid4().hex, user_id=user_id, text=item.text, type=item.type,
            source=item.source, created_at=now, updated_at=now, occurred_at=item.occurred_at,
            metadata=item.metadata, emotion=item.emotion or reading.label,
            client_id=item.client_id,
            importance=(self.emotions.importance(item.text, reading)
                        if item.importance is None else item.importance),
            confidence=s.default_confidence if item.confidence is None else item.confidence,
            content_hash=content_hash(item.text))

    async def keep_told(self, user_id: str, text: str, metadata: dict[str, Any], *,
                        emotion: str | None = None, importance: float | None = None
                        ) -> Memory | None:
        """The statements of a chat message, stored at once (SPEC C's short-term tier) so
        the next turn finds them; source ``chat``. None when the message told nothing (a
        question, a greeting, or more than a memory may hold: not cut, not kept)."""
        said = told(text)
        if not said or len(said) > self.settings.max_text_chars:
            return None
        memory, _ = await self.add(user_id, MemoryCreate(
            text=said, type=MemoryType.episodic, source=Source.chat, metadata=metadata,
            emotion=emotion, importance=importance), actor="chat")
        return memory

    async def supersede(self, user_id: str, old: Memory, item: MemoryCreate,
                        actor: str) -> Memory:
        """Add ``item`` as the memory that replaces ``old``; ``old`` keeps its text, gets a
        validity end and a link to its successor, and stays readable and restorable."""
        new, _ = await self.add(user_id, item.model_copy(
            update={"metadata": {**item.metadata, "supersedes": old.id}}), actor)
        if new.id != old.id:
            await self.end(old, new.id, actor)
        return new

    async def restore(self, user_id: str, memory_id: str, actor: str = "user") -> Memory:
        """Make a superseded memory current again; its successor is ended in its place."""
        old = await self.get(user_id, memory_id)
        if old.valid_until is None:
            raise Conflict(f"memory {memory_id} is current; only a superseded memory can be "
                           "restored")
        successor = old.metadata.get("superseded_by")
        newer = await self.store.get_memory(user_id, successor) if successor else None
        if newer is not None and newer.valid_until is None:
            await self.end(newer, old.id, actor)
        metadata = {k: v for k, v in old.metadata.items() if k != "superseded_by"}
        return await self.store.update_memory(
            replace(old, valid_until=None, updated_at=utcnow(), metadata=metadata),
            old_text=old.text, actor=actor, event="RESTORE")

    async def end(self, memory: Memory, successor_id: str, actor: str) -> None:
        """Supersede ``memory`` by ``successor_id`` (its text and history stay)."""
        now = utcnow()
        await self.store.update_memory(
            replace(memory, valid_until=now, updated_at=now,
                    metadata={**memory.metadata, "superseded_by": successor_id}),
            old_text=memory.text, actor=actor, event="SUPERSEDE")

    async def get(self, user_id: str, memory_id: str) -> Memory:
        memory = await self.store.get_memory(user_id, memory_id)
        if memory is None:
            raise NotFound(f"memory {memory_id} not found")
        return memory

    async def list(self, user_id: str, flt: MemoryFilter, limit: int, offset: int = 0
                   ) -> tuple[list[Memory], int]:
        if not 1 <= limit <= self.settings.max_page_size:
            raise Invalid(f"limit must be between 1 and {self.settings.max_page_size}",
                          param="limit")
        return await self.store.list_memories(user_id, flt, limit=limit, offset=offset)

    async def update(self, user_id: str, memory_id: str, patch: MemoryPatch,
                     actor: str = "user") -> Memory:
        current = await self.get(user_id, memory_id)
        changes = patch.model_dump(exclude_unset=True)
        if changes.get("text") is not None:
            self._check_size(changes["text"], "text")
        changes = {k: v for k, v in changes.items() if v is not None or k in ("occurred_at",
                                                                          "emotion")}
        updated = replace(current, **changes, updated_at=utcnow())
        chunks = mentions = None
        if changes.get("text", current.text) != current.text or "metadata" in changes:
            prep = (await prepare([updated.text], self.models, self.settings,
                                  [updated.metadata]))[0]
            chunks, mentions = prep.chunks, prep.mentions
            updated.content_hash = content_hash(updated.text)
        return await self.store.update_memory(readable(updated), old_text=current.text,
                                              actor=actor, chunks=chunks, mentions=mentions)

    async def delete(self, user_id: str, memory_id: str, actor: str = "user") -> None:
        if not await self.store.delete_memory(user_id, memory_id, actor=actor):
            raise NotFound(f"memory {memory_id} not found")

    async def delete_all(self, user_id: str, actor: str = "user") -> int:
        return await self.store.delete_all_memories(user_id, actor=actor)

    async def history(self, user_id: str, memory_id: str) -> list[HistoryEntry]:
        entries = await self.store.memory_history(user_id, memory_id)
        if not entries:
            raise NotFound(f"memory {memory_id} not found")
        return entries

    async def export(self, user_id: str, page: int = 500) -> AsyncIterator[dict[str, Any]]:
        """Every memory as a JSON-ready dict, oldest first (the original text is kept)."""
        offset = 0
        while True:
            memories, _ = await self.store.list_memories(
                user_id, MemoryFilter(include_superseded=True), limit=page, offset=offset,
                newest_first=False)
            for m in memories:
                yield MemoryOut.of(m).model_dump(mode="json")
            if len(memories) < page:
                return
            offset += page

    async def import_records(self, user_id: str, records: list[dict[str, Any]],
                             actor: str = "import") -> dict[str, Any]:
        """Records in the export format (or just {"text": ...}); re-importing an export
        changes nothing, because each record's id becomes its idempotency key."""
        items, errors = [], []
        for n, record in enumerate(records):
            try:
                items.append(import_item(record))
            except (ValidationError, TypeError, ValueError) as exc:
                errors.append({"record": n, "error": first_error(exc)})
        results = await self.add_many(user_id, items, actor) if items else []
        created = sum(1 for _, new in results if new)
        return {"imported": created, "existing": len(results) - created, "errors": errors}

    def _check_size(self, text: str, param: str) -> None:
        if len(text) > self.settings.max_text_chars:
            raise PayloadTooLarge(
                f"text is {len(text)} characters; the limit is {self.settings.max_text_chars}",
                param=param)


def readable(memory: Memory) -> Memory:
    """The memory, if it can be answered with: nothing is stored that cannot be read back."""
    try:
        MemoryOut.of(memory).model_dump_json()
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"this memory could not be read back: {exc}") from None
    return memory


def _first_of_each(items: list[MemoryCreate], found: list) -> dict[int, int]:
    """For each item not already stored, the index of the first item in the batch with
    the same client id or the same text (itself when it is the first)."""
    seen: dict[str, int] = {}
    first: dict[int, int] = {}
    for i, item in enumerate(items):
        if found[i] is not None:
            continue
        keys = [f"hash:{content_hash(item.text)}"]
        if item.client_id:
            keys.append(f"id:{item.client_id}")
        j = next((seen[k] for k in keys if k in seen), i)
        first[i] = j
        for k in keys:
            seen.setdefault(k, j)
    return first


_IMPORT_FIELDS = set(MemoryCreate.model_fields)


def import_item(record: dict[str, Any]) -> MemoryCreate:
    if isinstance(record, ValueError):  # a line the door could not read
        raise record
    if not isinstance(record, dict):
        raise TypeError("each record must be a JSON object")
    data = {k: v for k, v in record.items() if k in _IMPORT_FIELDS}
    data.setdefault("client_id", record.get("id"))
    data.setdefault("source", "import")
    return MemoryCreate(**data)


def first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)
