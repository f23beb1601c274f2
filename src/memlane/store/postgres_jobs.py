"""The durable job queue on PostgreSQL, shared by every replica: a claim takes the oldest
due job with FOR UPDATE SKIP LOCKED (two replicas never take the same one), and a running
job whose lease ran out (its replica died: no heartbeat renewed it) is due again."""
from __future__ import annotations

import psycopg

from .. import errors
from ..domain import Job, JobStatus
from .postgres_memories import fetch, fetch_one
from .postgres_rows import placeholders, select_list
from .sqlite_jobs import _COLUMNS, _params, _result_json, _row_to_job
from .sqlite_rows import now_ts

Conn = psycopg.AsyncConnection
_SELECT = f"SELECT {select_list(_COLUMNS)} FROM jobs"
_RETURNING = select_list(_COLUMNS)


async def enqueue_job(conn: Conn, job: Job) -> Job:
    try:
        async with conn.transaction():
            await conn.execute(f"INSERT INTO jobs ({', '.join(_COLUMNS)}) "
                               f"VALUES ({placeholders(len(_COLUMNS))})", _params(job))
    except psycopg.errors.UniqueViolation as exc:
        raise errors.Conflict(f"job {job.id} already exists") from exc
    return await get_job(conn, job.id)


async def claim_job(conn: Conn, now: float, lease_s: float) -> Job | None:
    row = await fetch_one(
        conn,
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = %s "
        "WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND (run_after IS NULL OR "
        "run_after <= %s)) OR (status = 'running' AND updated_at < %s) "
        "ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
        f"RETURNING {_RETURNING}", (now, now, now - lease_s))
    return _row_to_job(row) if row else None


async def renew_lease(conn: Conn, job_id: str) -> None:
    await conn.execute("UPDATE jobs SET updated_at = %s WHERE id = %s AND status = 'running'",
                       (now_ts(), job_id))


async def finish_job(conn: Conn, job_id: str, result: dict | None) -> None:
    await conn.execute("UPDATE jobs SET status = 'done', result = %s, updated_at = %s "
                       "WHERE id = %s", (_result_json(result), now_ts(), job_id))


async def fail_job(conn: Conn, job_id: str, error: str, retry_at: float | None) -> None:
    status = JobStatus.failed if retry_at is None else JobStatus.queued
    await conn.execute("UPDATE jobs SET status = %s, last_error = %s, run_after = %s, "
                       "updated_at = %s WHERE id = %s",
                       (str(status), error, retry_at, now_ts(), job_id))


async def requeue_running_jobs(conn: Conn, lease_s: float) -> int:
    """Only jobs whose lease ran out: the others are running on a live replica."""
    now = now_ts()
    cur = await conn.execute("UPDATE jobs SET status = 'queued', updated_at = %s "
                             "WHERE status = 'running' AND updated_at < %s",
                             (now, now - lease_s))
    return cur.rowcount


async def get_job(conn: Conn, job_id: str) -> Job | None:
    row = await fetch_one(conn, f"{_SELECT} WHERE id = %s", (job_id,))
    return _row_to_job(row) if row else None


async def list_jobs(conn: Conn, user_id: str | None, status: JobStatus | None,
                    limit: int) -> list[Job]:
    rows = await fetch(conn, f"{_SELECT} WHERE (%s::text IS NULL OR user_id = %s) AND "
                       "(%s::text IS NULL OR status = %s) ORDER BY created_at DESC, seq DESC "
                       "LIMIT %s", (user_id, user_id, status and str(status),
                                    status and str(status), max(limit, 0)))
    return [_row_to_job(r) for r in rows]


async def job_counts(conn: Conn) -> dict[str, int]:
    counts = {str(s): 0 for s in JobStatus}
    for row in await fetch(conn, "SELECT status, count(*) AS n FROM jobs GROUP BY status"):
        counts[row["status"]] = row["n"]
    return counts
