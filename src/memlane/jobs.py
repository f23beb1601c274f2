"""Durable background jobs: rows in the store (queued → running → done | failed), run by
one worker task inside the server. A job left running by a dead process is queued again
at start, so a restart finishes it (on a store shared by replicas, once its lease runs
out, by whichever replica claims it next); failures retry with backoff, keeping the last
error."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from .background import Background
from .domain import Job, JobStatus, utcnow
from .store.base import Store

log = logging.getLogger(__name__)
Handler = Callable[[Job], Awaitable[dict[str, Any] | None]]


class Jobs:
    def __init__(self, store: Store, *, enabled: bool = True, max_attempts: int = 3,
                 retry_base_s: float = 2.0, poll_s: float = 1.0, heartbeat_s: float = 20.0):
        self.store, self.enabled, self.heartbeat_s = store, enabled, heartbeat_s
        self.max_attempts, self.retry_base_s, self.poll_s = max_attempts, retry_base_s, poll_s
        self.handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._task = Background("memlane-jobs")
        self.running: Job | None = None

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def enqueue(self, kind: str, user_id: str, payload: dict[str, Any]) -> Job:
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = await self.store.enqueue_job(Job(uuid.uuid4().hex, kind, user_id, payload))
        self._wake.set()
        return job

    async def start(self) -> None:
        resumed = await self.store.requeue_running_jobs()
        if resumed:
            log.info("resuming %d interrupted job(s)", resumed)
        if self.enabled:
            self._task.start(self._work())

    async def stop(self) -> None:
        """Stops the worker; a job cut off mid-run stays 'running' and resumes next start."""
        await self._task.stop()

    async def run_pending(self) -> int:
        """Run queued jobs in this task until none is due (CLI and tests without worker)."""
        done = 0
        while await self._run_one():
            done += 1
        return done

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Until the queue has nothing due (for tests and clean shutdowns)."""
        async with asyncio.timeout(timeout):
            while True:
                counts = await self.store.job_counts()
                if not counts.get("queued") and not counts.get("running"):
                    return
                await asyncio.sleep(0.05)

    async def _work(self) -> None:
        while True:
            if not await self._run_one():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):  # not wait_for: on 3.11 a
                        await self._wake.wait()  # cancel can be lost in it, hanging stop()

    async def _run_one(self) -> bool:
        job = await self.store.claim_job(utcnow())
        if job is None:
            return False
        self.running = job
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            async with self._heartbeat(job):
                result = await handler(job)
            await self.store.finish_job(job.id, result=result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, exc)
        finally:
            self.running = None
        return True

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job: Job):
        """Renews the job's lease while it runs: on a store shared by replicas, a job
        whose lease runs out (this process died) is taken over by another."""
        async def beat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat_s)
                with contextlib.suppress(Exception):
                    await self.store.renew_lease(job.id)
        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _failed(self, job: Job, exc: Exception) -> None:
        log.warning("job %s (%s) attempt %d failed: %r", job.id, job.kind, job.attempts, exc)
        retry_at = None
        if job.attempts < self.max_attempts:
            retry_at = utcnow() + timedelta(seconds=self.retry_base_s * 2 ** (job.attempts - 1))
        await self.store.fail_job(job.id, f"{type(exc).__name__}: {exc}"[:500],
                                  retry_at=retry_at)

    async def counts(self) -> dict[str, int]:
        counts = await self.store.job_counts()
        return {status.value: counts.get(status.value, 0) for status in JobStatus}
