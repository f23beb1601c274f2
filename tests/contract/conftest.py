"""Every Store implementation runs the same contract suite: add a factory here."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from memlane.store import SQLiteStore, Store
from memlane.store.postgres import PostgresStore
from pg_support import database_for


def _sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "data" / "memlane.db")


def _postgres(tmp_path: Path) -> Store:
    """A database of its own on the session's private server (pg_support)."""
    return PostgresStore(database_for(tmp_path), pool_size=4)


# name -> factory(tmp_path) returning an unopened store; calling it twice with the same
# tmp_path must give a store over the same data (used by the reopen test).
STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store_factory(request, tmp_path) -> Callable[[], Store]:
    factory = STORE_FACTORIES[request.param]
    return lambda: factory(tmp_path)


@pytest.fixture
async def store(store_factory):
    s = store_factory()
    await s.open()
    try:
        yield s
    finally:
        await s.close()
