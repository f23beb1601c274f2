"""Which memories searches returned, written to the store after the reply, in order: a
search never waits for a write, nor behind an ingest's writes."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime

from ..store.base import Store

log = logging.getLogger(__name__)


class Accesses:
    def __init__(self, store: Store):
        self.store = store
        self._queue: deque[tuple[str, list[str], datetime]] = deque()
        self._task: asyncio.Task | None = None

    def note(self, user_id: str, memory_ids: list[str], at: datetime) -> None:
        self._queue.append((user_id, memory_ids, at))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write(), name="memlane-accesses")

    async def settle(self) -> None:
        """Wait until every access noted so far is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _write(self) -> None:
        while self._queue:
            user_id, memory_ids, at = self._queue.popleft()
            try:
                await self.store.record_access(user_id, memory_ids, at)
            except Exception as exc:  # counting an access is never worth failing for
                log.warning("could not record an access: %r", exc)
