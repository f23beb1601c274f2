"""Synchronous SQL of the durable job queue. Every write runs on the single writer thread,
one transaction each, so a claim can never hand the same job out twice."""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from .. import errors
from ..domain import Job, JobStatus
from .sqlite_rows import dump_json, from_ts, now_ts, to_ts

_COLUMNS = ("id", "kind", "user_id", "payload", "status", "attempts", "last_error",
            "result", "created_at", "updated_at", "run_after")
_INSERT = (f"INSERT INTO jobs ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")
# Oldest first; rowid keeps insertion order among equal created_at.
_NEXT_ELIGIBLE = ("SELECT id FROM jobs WHERE status = 'queued' AND "
                  "(run_after IS NULL OR run_after <= ?) ORDER BY created_at, rowid LIMIT 1")


def _result_json(result: dict[str, Any] | None) -> str | None:
    return None if result is None else json.dumps(result, ensure_ascii=False, default=str)


def _params(job: Job) -> tuple:
    return (job.id, job.kind, job.user_id, dump_json(job.payload), str(job.status),
            int(job.attempts), job.last_error, _result_json(job.result),
            to_ts(job.created_at), to_ts(job.updated_at), to_ts(job.run_after))


def _row_to_job(row: sqlite3.Row) -> Job:
    return Job(id=row["id"], kind=row["kind"], user_id=row["user_id"],
               payload=json.loads(row["payload"]), status=JobStatus(row["status"]),
               attempts=row["attempts"], last_error=row["last_error"],
               result=None if row["result"] is None else json.loads(row["result"]),
               created_at=from_ts(row["created_at"]), updated_at=from_ts(row["updated_at"]),
               run_after=from_ts(row["run_after"]))


# writes ------------------------------------------------------------------------------
def enqueue_job(conn: sqlite3.Connection, job: Job) -> Job:
    try:
        conn.execute(_INSERT, _params(job))
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict(f"job {job.id} already exists") from exc
    return get_job(conn, job.id)


def claim_job(conn: sqlite3.Connection, now: float) -> Job | None:
    rows = conn.execute(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = ? "
        f"WHERE id = ({_NEXT_ELIGIBLE}) RETURNING *", (now, now)).fetchall()
    return _row_to_job(rows[0]) if rows else None


def renew_lease(conn: sqlite3.Connection, job_id: str) -> None:
    conn.execute("UPDATE jobs SET updated_at = ? WHERE id = ? AND status = 'running'",
                 (now_ts(), job_id))


def finish_job(conn: sqlite3.Connection, job_id: str, result: dict[str, Any] | None) -> None:
    """A job deleted meanwhile (its user was) is silently gone."""
    conn.execute("UPDATE jobs SET status = 'done', result = ?, updated_at = ? WHERE id = ?",
                 (_result_json(result), now_ts(), job_id))


def fail_job(conn: sqlite3.Connection, job_id: str, error: str,
             retry_at: float | None) -> None:
    status = JobStatus.failed if retry_at is None else JobStatus.queued
    conn.execute("UPDATE jobs SET status = ?, last_error = ?, run_after = ?, updated_at = ? "
                 "WHERE id = ?", (str(status), error, retry_at, now_ts(), job_id))


def requeue_running_jobs(conn: sqlite3.Connection) -> int:
    return conn.execute("UPDATE jobs SET status = 'queued', updated_at = ? "
                        "WHERE status = 'running'", (now_ts(),)).rowcount


def delete_user_jobs(conn: sqlite3.Connection, user_id: str) -> None:
    conn.execute("DELETE FROM jobs WHERE user_id = ?", (user_id,))


# reads -------------------------------------------------------------------------------
def get_job(conn: sqlite3.Connection, job_id: str) -> Job | None:
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return _row_to_job(row) if row else None


def list_jobs(conn: sqlite3.Connection, user_id: str | None, status: JobStatus | None,
              limit: int) -> list[Job]:
    clauses, params = [], []
    if user_id is not None:
        clauses.append("user_id = ?")
        params.append(user_id)
    if status is not None:
        clauses.append("status = ?")
        params.append(str(status))
    where = " AND ".join(clauses) or "1"
    rows = conn.execute(f"SELECT * FROM jobs WHERE {where} "
                        "ORDER BY created_at DESC, rowid DESC LIMIT ?",
                        (*params, max(limit, 0)))
    return [_row_to_job(r) for r in rows]


def job_counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts = {str(s): 0 for s in JobStatus}
    for status, n in conn.execute("SELECT status, count(*) FROM jobs GROUP BY status"):
        counts[status] = n
    return counts
