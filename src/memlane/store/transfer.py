"""Copy a SQLite data directory's database into PostgreSQL (`memlane migrate`): table by
table in insertion order, in batches of one transaction each; rows already there (same
key) are left alone, so running it again is harmless and finishes an interrupted copy.
Afterwards every source row is looked up by its key in the destination."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .postgres import PostgresStore
from .sqlite_rows import blob_vector

BATCH = 2000


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]  # what identifies a row in both databases
    order: str = "rowid"
    skip: tuple[str, ...] = ()  # columns the destination numbers itself
    booleans: tuple[str, ...] = ()


TABLES = [
    Table("users", ("id",), booleans=("is_admin", "disabled")),
    Table("api_keys", ("id",), booleans=("revoked",)),
    Table("refresh_tokens", ("jti",)),
    Table("memories", ("id",)),
    Table("chunks", ("memory_id", "idx"), skip=("id",)),
    Table("entities", ("id",)),
    Table("memory_entities", ("memory_id", "entity_id"), order="memory_id, pos"),
    Table("relations", ("a_id", "b_id"), order="a_id, b_id"),
    Table("history", ("id",), order="seq", skip=("seq",)),
    Table("conversations", ("id",)),
    Table("messages", ("id",)),
    Table("summaries", ("id",)),
    Table("persona_chunks", ("conversation_id", "idx"), skip=("id",)),
    Table("jobs", ("id",)),
    Table("analytics", ("id",)),
]


@dataclass
class Copied:
    table: str
    source: int
    found: int  # source rows present in the destination afterwards


def _columns(src: sqlite3.Connection, table: Table) -> list[str]:
    return [r[1] for r in src.execute(f"PRAGMA table_info({table.name})")
            if r[1] not in table.skip]


def _rows(src: sqlite3.Connection, table: Table, columns: list[str]) -> Iterator[list[tuple]]:
    convert = _converter(table, columns)
    cur = src.execute(f"SELECT {', '.join(map(_quote, columns))} FROM {table.name} "
                      f"ORDER BY {table.order}")
    while batch := cur.fetchmany(BATCH):
        yield [convert(row) for row in batch]


def _converter(table: Table, columns: list[str]) -> Callable[[tuple], tuple]:
    flags = {i for i, c in enumerate(columns) if c in table.booleans}
    vector = columns.index("vector") if table.name == "chunks" else None

    def convert(row: tuple) -> tuple:
        out = list(row)
        for i in flags:
            out[i] = bool(out[i])
        if vector is not None and out[vector] is not None:
            out[vector] = blob_vector(out[vector])
        return tuple(out)
    return convert


def _quote(column: str) -> str:
    return f'"{column}"'


async def copy_sqlite_to_postgres(sqlite_path: Path, url: str,
                                  progress: Callable[[str, int, int], None] | None = None
                                  ) -> list[Copied]:
    """``progress(table, rows_done, rows_total)`` after each batch."""
    src = sqlite3.connect(Path(sqlite_path).resolve().as_uri() + "?mode=ro", uri=True)
    dest = PostgresStore(url, pool_size=2)
    await dest.open()  # creates or migrates the schema
    try:
        return [await _copy_table(src, dest, table, progress) for table in TABLES]
    finally:
        await dest.close()
        src.close()


async def _copy_table(src: sqlite3.Connection, dest: PostgresStore, table: Table,
                      progress) -> Copied:
    columns = _columns(src, table)
    total = src.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
    insert = (f"INSERT INTO {table.name} ({', '.join(map(_quote, columns))}) VALUES "
              f"({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING")
    done = 0
    for batch in _rows(src, table, columns):
        await dest._tx(_executemany, insert, batch)
        done += len(batch)
        if progress:
            progress(table.name, done, total)
    return Copied(table.name, total, await _found(src, dest, table))


async def _executemany(conn, sql: str, rows: list[tuple]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(sql, rows)


async def _found(src: sqlite3.Connection, dest: PostgresStore, table: Table) -> int:
    """How many of the source's keys the destination holds."""
    keys = ", ".join(table.key)
    cur = src.execute(f"SELECT {keys} FROM {table.name}")
    found = 0
    while batch := cur.fetchmany(BATCH):
        columns = list(zip(*batch))
        arrays = ", ".join(f"%s::{_pg_type(col)}[]" for col in columns)
        row = await dest._tx(_fetch_one, f"SELECT count(*) AS n FROM {table.name} t JOIN "
                             f"unnest({arrays}) AS k({keys}) USING ({keys})",
                             [list(c) for c in columns])
        found += row["n"]
    return found


def _pg_type(values: tuple) -> str:
    return "int" if isinstance(values[0], int | np.integer) else "text"


async def _fetch_one(conn, sql: str, params) -> dict:
    return await (await conn.execute(sql, params)).fetchone()
