"""Store contract: the durable job queue."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from memlane.domain import Job, JobStatus

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def enqueue(store, *, user: str = "u1", at: datetime = T0, kind: str = "extract",
                  **fields) -> Job:
    return await store.enqueue_job(Job(id=uuid.uuid4().hex, kind=kind, user_id=user,
                                       created_at=at, updated_at=at, **fields))


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def test_enqueue_and_get_round_trip(store):
    job = Job(id=uuid.uuid4().hex, kind="summarise", user_id="u1",
              payload={"conversation_id": "c1", "upto": 5, "nested": {"x": [1, 2]}},
              created_at=T0, updated_at=T0, run_after=T0 + timedelta(seconds=30))
    stored = await store.enqueue_job(job)
    got = await store.get_job(job.id)
    assert stored == job and got == job
    assert got.status == JobStatus.queued and got.attempts == 0
    assert got.last_error is None and got.result is None
    assert all(is_utc(t) for t in (got.created_at, got.updated_at, got.run_after))
    assert await store.get_job("missing") is None


async def test_claim_takes_the_oldest_eligible(store):
    assert await store.claim_job(T0) is None
    newer = await enqueue(store, at=T0 + timedelta(seconds=1))
    older = await enqueue(store, at=T0)
    claimed = await store.claim_job(T0 + timedelta(minutes=1))
    assert claimed.id == older.id
    assert claimed.status == JobStatus.running and claimed.attempts == 1
    assert claimed.updated_at == T0 + timedelta(minutes=1) and is_utc(claimed.updated_at)
    assert await store.get_job(older.id) == claimed
    assert (await store.claim_job(T0 + timedelta(minutes=1))).id == newer.id
    assert await store.claim_job(T0 + timedelta(minutes=1)) is None


async def test_run_after_defers_a_claim(store):
    later = await enqueue(store, at=T0, run_after=T0 + timedelta(minutes=5))
    assert await store.claim_job(T0 + timedelta(minutes=4)) is None
    assert (await store.claim_job(T0 + timedelta(minutes=5))).id == later.id


async def test_finish_keeps_the_result(store):
    job = await enqueue(store)
    await store.claim_job(T0)
    await store.finish_job(job.id, result={"memories": ["m1", "m2"]})
    got = await store.get_job(job.id)
    assert got.status == JobStatus.done and got.result == {"memories": ["m1", "m2"]}
    assert await store.claim_job(T0 + timedelta(days=1)) is None


async def test_fail_with_retry_requeues_later(store):
    job = await enqueue(store)
    await store.claim_job(T0)
    retry_at = T0 + timedelta(seconds=30)
    await store.fail_job(job.id, "model timed out", retry_at=retry_at)
    got = await store.get_job(job.id)
    assert got.status == JobStatus.queued and got.last_error == "model timed out"
    assert got.run_after == retry_at and got.attempts == 1
    assert await store.claim_job(T0 + timedelta(seconds=29)) is None
    again = await store.claim_job(retry_at)
    assert again.id == job.id and again.attempts == 2


async def test_fail_without_retry_is_final(store):
    job = await enqueue(store)
    await store.claim_job(T0)
    await store.fail_job(job.id, "bad payload", retry_at=None)
    got = await store.get_job(job.id)
    assert got.status == JobStatus.failed and got.last_error == "bad payload"
    assert await store.claim_job(T0 + timedelta(days=1)) is None


async def test_requeue_running_jobs(store):
    running = [await enqueue(store, at=T0 + timedelta(seconds=i)) for i in range(2)]
    waiting = await enqueue(store, at=T0 + timedelta(seconds=5))
    for _ in running:
        await store.claim_job(T0 + timedelta(minutes=1))
    assert await store.requeue_running_jobs() == 2
    for job in [*running, waiting]:
        assert (await store.get_job(job.id)).status == JobStatus.queued
    assert await store.requeue_running_jobs() == 0


async def test_restart_resumes_a_running_job(store, store_factory):
    job = await enqueue(store, payload={"text": "remember this"})
    assert (await store.claim_job(T0)).id == job.id
    await store.close()  # the process dies mid-job
    again = store_factory()
    await again.open()
    try:
        assert (await again.get_job(job.id)).status == JobStatus.running
        assert await again.claim_job(T0) is None
        assert await again.requeue_running_jobs() == 1
        resumed = await again.claim_job(T0)
        assert resumed.id == job.id and resumed.attempts == 2
        assert resumed.payload == {"text": "remember this"}
    finally:
        await again.close()
    await store.open()


async def test_concurrent_claims_never_share_a_job(store):
    jobs = [await enqueue(store, at=T0 + timedelta(seconds=i)) for i in range(3)]
    claimed = await asyncio.gather(*(store.claim_job(T0 + timedelta(minutes=1))
                                     for _ in range(5)))
    taken = [j.id for j in claimed if j is not None]
    assert sorted(taken) == sorted(j.id for j in jobs)
    assert claimed.count(None) == 2


async def test_job_counts_has_every_status(store):
    assert await store.job_counts() == {str(s): 0 for s in JobStatus}
    done, failed, _running, _queued = [await enqueue(store, at=T0 + timedelta(seconds=i))
                                       for i in range(4)]
    for _ in range(3):
        await store.claim_job(T0 + timedelta(minutes=1))
    await store.finish_job(done.id)
    await store.fail_job(failed.id, "boom", retry_at=None)
    assert await store.job_counts() == {"queued": 1, "running": 1, "done": 1, "failed": 1}


async def test_list_jobs_newest_first_and_filtered(store):
    a1 = await enqueue(store, user="a", at=T0)
    b1 = await enqueue(store, user="b", at=T0 + timedelta(seconds=1))
    a2 = await enqueue(store, user="a", at=T0 + timedelta(seconds=2))
    await store.claim_job(T0 + timedelta(minutes=1))  # a1 is running
    assert [j.id for j in await store.list_jobs()] == [a2.id, b1.id, a1.id]
    assert [j.id for j in await store.list_jobs(limit=2)] == [a2.id, b1.id]
    assert [j.id for j in await store.list_jobs(user_id="a")] == [a2.id, a1.id]
    assert [j.id for j in await store.list_jobs(status=JobStatus.queued)] == [a2.id, b1.id]
    assert [j.id for j in await store.list_jobs(user_id="a", status=JobStatus.running)
            ] == [a1.id]
    assert await store.list_jobs(user_id="nobody") == []


async def test_delete_user_removes_their_jobs(store):
    user = await store.create_user("alice")
    mine = await enqueue(store, user=user.id)
    theirs = await enqueue(store, user="someone else")
    assert await store.delete_user(user.id) is True
    assert await store.get_job(mine.id) is None
    assert await store.list_jobs(user_id=user.id) == []
    assert (await store.get_job(theirs.id)).id == theirs.id
