"""The import service: memories from an importer, added in batches (idempotent: each has
a client id from its source), and with ``extract`` fact extraction queued for what the
user said (messages with role `user`, and files that are the user's own notes)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from ..domain import Memory
from ..memory.service import MemoryService, first_error
from ..schemas import MemoryCreate
from . import Format, read

Learn = Callable[[str, Memory], Awaitable[None]]
Records = Iterator[MemoryCreate | Exception]


class Importer:
    def __init__(self, memories: MemoryService, learn: Learn, batch: int = 100):
        self.memories, self.learn, self.batch = memories, learn, batch

    async def import_file(self, user_id: str, path: Path, fmt: Format = "auto", *,
                          name: str | None = None, me: str | None = None,
                          extract: bool = False) -> dict[str, Any]:
        return await self.run(user_id, read(path, fmt, name=name, me=me), extract=extract)

    async def run(self, user_id: str, records: Records, *, extract: bool = False
                  ) -> dict[str, Any]:
        """Reads ``records`` in a worker thread, a batch at a time (they come from a file)."""
        out: dict[str, Any] = {"imported": 0, "existing": 0, "errors": []}
        sessions: set[str] = set()
        seen = 0
        while batch := await asyncio.to_thread(_take, records, self.batch):
            items = []
            for n, record in enumerate(batch, seen):
                if isinstance(record, Exception):
                    out["errors"].append({"record": n, "error": first_error(record)})
                else:
                    items.append(record)
            seen += len(batch)
            await self._add(user_id, items, out, extract)
            sessions.update(str(i.metadata["session"]) for i in items
                            if "session" in i.metadata)
        return {**out, "conversations": len(sessions)}

    async def _add(self, user_id: str, items: list[MemoryCreate], out: dict,
                   extract: bool) -> None:
        for memory, created in await self.memories.add_many(user_id, items, actor="import"):
            out["imported" if created else "existing"] += 1
            if extract and created and memory.metadata.get("role", "user") == "user":
                await self.learn(user_id, memory)


def _take(records: Records, n: int) -> list:
    return list(islice(records, n))
