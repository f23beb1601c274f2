"""Durable jobs: retries with backoff keep the last error; exhausted retries fail."""
import pytest

from memlane.jobs import Jobs
from memlane.store import SQLiteStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    s = SQLiteStore(tmp_path / "jobs.db")
    await s.open()
    yield s
    await s.close()


async def test_a_failing_job_is_retried_then_done(store):
    jobs = Jobs(store, enabled=False, retry_base_s=0.0)
    seen = []

    async def flaky(job):
        seen.append(job.attempts)
        if job.attempts < 2:
            raise RuntimeError("model busy")
        return {"ok": True}

    jobs.register("flaky", flaky)
    job = await jobs.enqueue("flaky", "u", {"n": 1})
    await jobs.run_pending()
    done = await store.get_job(job.id)
    assert seen == [1, 2] and done.status == "done" and done.result == {"ok": True}
    assert done.last_error == "RuntimeError: model busy"


async def test_a_job_failing_every_time_ends_failed(store):
    jobs = Jobs(store, enabled=False, max_attempts=3, retry_base_s=0.0)

    async def broken(job):
        raise ValueError(f"attempt {job.attempts}")

    jobs.register("broken", broken)
    job = await jobs.enqueue("broken", "u", {})
    await jobs.run_pending()
    failed = await store.get_job(job.id)
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.last_error == "ValueError: attempt 3"
    assert (await jobs.counts())["failed"] == 1


async def test_unknown_kind_is_refused(store):
    with pytest.raises(ValueError):
        await Jobs(store, enabled=False).enqueue("nope", "u", {})
