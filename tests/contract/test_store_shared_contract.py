"""Store contract: small shared state (rate limits and lock-outs of replicas) and job
leases."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from memlane.domain import Job, JobStatus, utcnow

pytestmark = pytest.mark.anyio


def add_one(value):
    new = (value or 0) + 1
    return new, new


async def test_update_state_is_atomic_per_key(store):
    results = await asyncio.gather(*(store.update_state("k", add_one, ttl_s=60)
                                     for _ in range(20)))
    assert sorted(results) == list(range(1, 21))
    assert await store.update_state("other", add_one, ttl_s=60) == 1


async def test_state_holds_json_and_can_be_deleted(store):
    value = {"tokens": 2.5, "at": [1, "x"]}
    assert await store.update_state("k", lambda v: (value, v), ttl_s=60) is None
    assert await store.update_state("k", lambda v: (None, v), ttl_s=60) == value
    assert await store.update_state("k", lambda v: (v, v), ttl_s=60) is None


async def test_expired_state_reads_as_absent_and_is_pruned(store):
    await store.update_state("gone", lambda v: (1, None), ttl_s=0.05)
    await store.update_state("kept", lambda v: (1, None), ttl_s=60)
    await asyncio.sleep(0.1)
    assert await store.update_state("gone", lambda v: (v, v), ttl_s=60) is None
    await store.update_state("old", lambda v: (1, None), ttl_s=0.01)
    await asyncio.sleep(0.05)
    assert await store.prune_state() >= 1
    assert await store.update_state("kept", lambda v: (v, v), ttl_s=60) == 1


async def test_claims_from_two_store_instances_never_share_a_job(store, store_factory):
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    ids = {(await store.enqueue_job(Job(id=uuid.uuid4().hex, kind="extract", user_id="u1",
                                        created_at=t0 + timedelta(seconds=i),
                                        updated_at=t0))).id for i in range(6)}
    other = store_factory()
    await other.open()
    try:
        claimed = await asyncio.gather(*(s.claim_job(t0 + timedelta(minutes=1))
                                         for _ in range(5) for s in (store, other)))
    finally:
        await other.close()
    taken = [j.id for j in claimed if j is not None]
    assert sorted(taken) == sorted(ids) and claimed.count(None) == 4


async def test_a_job_whose_lease_ran_out_goes_to_the_next_claim_on_a_shared_store(store):
    job = await store.enqueue_job(Job(id=uuid.uuid4().hex, kind="extract", user_id="u1"))
    now = utcnow()
    assert (await store.claim_job(now)).id == job.id
    await store.renew_lease(job.id)
    assert await store.claim_job(now) is None  # running, lease fresh
    later = now + timedelta(hours=1)  # no heartbeat for an hour: its process died
    taken = await store.claim_job(later)
    if store.shared:
        assert taken.id == job.id and taken.attempts == 2
    else:  # one process: it resumes its own jobs at start (requeue_running_jobs)
        assert taken is None
        assert (await store.get_job(job.id)).status == JobStatus.running


async def test_replicas_starting_together_share_one_local_user(store, tmp_path):
    """Each replica makes the local admin on start when it is missing; when two start at
    once on an empty database, one finds the other's instead of failing its start."""
    from memlane.accounts import Accounts
    from memlane.config import LOCAL_USER, load_settings
    settings = load_settings(data_dir=tmp_path)
    users = await asyncio.gather(*(Accounts(store, settings).ensure_local_user()
                                   for _ in range(4)))
    assert {u.id for u in users} == {LOCAL_USER} and all(u.is_admin for u in users)
