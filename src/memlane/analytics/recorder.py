"""The recorder: pipeline runs become records, buffered in memory and written in batches:
at `analytics_flush_records` records, every `analytics_flush_s` seconds, and at stop, which
the engine calls before the store closes (so a clean shutdown loses no record)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime

from ..background import Background
from ..config import Settings
from ..domain import AnalyticsRecord
from ..models.llm import Usage
from ..store.base import Store
from .summary import summarise

log = logging.getLogger(__name__)
MAX_BUFFER = 10_000  # records kept while the store refuses them; beyond, the oldest go


class Recorder:
    def __init__(self, settings: Settings, store: Store):
        self.settings, self.store = settings, store
        self.buffer: list[AnalyticsRecord] = []
        self._due = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task = Background("memlane-analytics")

    def record(self, kind: str, user_id: str, phases: dict[str, float],
               strategies: dict[str, int], *, usage: Usage | None = None,
               conversation_id: str | None = None) -> AnalyticsRecord:
        """Buffer one run: ``phases`` in ms, ``strategies`` hits per retrieval strategy."""
        usage = usage or Usage()
        record = AnalyticsRecord(
            uuid.uuid4().hex, user_id, kind, conversation_id=conversation_id,
            phases=dict(phases), strategies=dict(strategies),
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cost=self.cost(usage))
        self.buffer.append(record)
        if len(self.buffer) >= self.settings.analytics_flush_records:
            self._due.set()
        return record

    def cost(self, usage: Usage) -> float:
        s = self.settings
        return round((usage.prompt_tokens * s.llm_cost_per_1k_prompt
                      + usage.completion_tokens * s.llm_cost_per_1k_completion) / 1000, 6)

    async def flush(self) -> int:
        """Write the buffer; on failure it is kept for the next flush. How many written."""
        async with self._flushing:
            batch, self.buffer = self.buffer, []
            if not batch:
                return 0
            try:
                return await self.store.add_analytics(batch)
            except Exception:
                log.exception("could not write %d analytics record(s); kept", len(batch))
                self.buffer = [*batch, *self.buffer][-MAX_BUFFER:]
                return 0

    async def summary(self, user_id: str | None, since: datetime, until: datetime,
                      conversation_id: str | None = None) -> dict:
        """The summary of a user's (None: everyone's) records in since <= at < until,
        buffered ones included."""
        await self.flush()
        return summarise(await self.store.analytics_records(
            user_id, since=since, until=until, conversation_id=conversation_id))

    async def start(self) -> None:
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()  # a write it had begun still completes in the store
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.analytics_flush_s):
                    await self._due.wait()
            self._due.clear()
            await self.flush()
