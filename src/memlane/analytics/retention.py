"""Retention: records older than `analytics_retention_days` are deleted by a durable
background job. It is queued at start and then every `analytics_prune_every_s`, each time
only when some record is that old (an idle server queues nothing). Each round also drops
expired shared state (rate-limit buckets, lock-outs)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from ..background import Background
from ..config import Settings
from ..domain import Job, utcnow
from ..jobs import Jobs
from ..store.base import Store

log = logging.getLogger(__name__)
PRUNE_JOB = "prune_analytics"
NO_USER = ""  # the job of every user's records belongs to none


class Retention:
    def __init__(self, settings: Settings, store: Store, jobs: Jobs):
        self.settings, self.store, self.jobs = settings, store, jobs
        self._task = Background("memlane-retention")

    def cutoff(self) -> datetime:
        return utcnow() - timedelta(days=self.settings.analytics_retention_days)

    async def schedule(self) -> bool:
        """Queue the prune job when some record is past retention; whether it was."""
        if not await self.store.analytics_records(None, until=self.cutoff(), limit=1):
            return False
        await self.jobs.enqueue(PRUNE_JOB, NO_USER, {})
        return True

    async def prune(self, job: Job) -> dict:
        """The job's handler."""
        return {"pruned": await self.store.prune_analytics(self.cutoff())}

    async def start(self) -> None:
        await self.schedule()
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.analytics_prune_every_s)
            try:
                await self.store.prune_state()  # expired rate buckets and lock-outs
                await self.schedule()
            except Exception:  # the next round tries again
                log.exception("could not schedule analytics pruning")
