"""`memlane migrate --from sqlite:///… --to postgresql://…` on a real private PostgreSQL."""
from __future__ import annotations

import asyncio
import hashlib
import uuid

import numpy as np
from click.testing import CliRunner

from memlane.cli import cli
from memlane.domain import (
    AnalyticsRecord,
    Chunk,
    Conversation,
    EntityMention,
    Job,
    Memory,
    MemoryFilter,
    Message,
    Role,
)
from memlane.store.postgres import PostgresStore
from memlane.store.sqlite import SQLiteStore
from pg_support import database_for


def unit(i: int) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[i] = 1
    return v


async def fill(path) -> dict:
    store = SQLiteStore(path)
    await store.open()
    try:
        user = await store.create_user("ana")
        await store.add_api_key(user.id, name="k", prefix="ml_x", key_hash="h" * 64)
        ids = []
        for i in range(5):
            text = f"Ana visited Rome in spring number {i}"
            m = await store.insert_memory(
                Memory(id=uuid.uuid4().hex, user_id=user.id, text=text,
                       content_hash=hashlib.sha256(text.encode()).hexdigest(),
                       metadata={"n": i}),
                [Chunk(0, text, 0, len(text), unit(i))],
                [EntityMention("Ana", "PERSON"), EntityMention("Rome", "GPE")], actor="t")
            ids.append(m.id)
        conv = await store.create_conversation(Conversation(id="c1", user_id=user.id))
        await store.add_message(Message(id="m1", conversation_id=conv.id, user_id=user.id,
                                        role=Role.user, content="hi", vector=unit(1)))
        await store.enqueue_job(Job(id="j1", kind="extract", user_id=user.id))
        await store.add_analytics([AnalyticsRecord(id="a1", user_id=user.id, kind="search")])
        return {"user": user.id, "memories": ids}
    finally:
        await store.close()


async def check(url: str, made: dict) -> None:
    store = PostgresStore(url)
    await store.open()
    try:
        user = made["user"]
        assert await store.memory_count() == 5
        hits = await store.vector_search(user, unit(3), MemoryFilter(), 1)
        assert [h.memory_id for h in hits] == [made["memories"][3]]
        assert len(await store.keyword_search(user, ["rome"], MemoryFilter(), 10)) == 5
        assert [e.name for e in await store.list_entities(user)] == ["Ana", "Rome"]
        related = await store.entity_search(user, ["ana"], MemoryFilter(), 10)
        assert len(related) == 5
        assert (await store.list_messages(user, "c1"))[0].vector.tolist() == unit(1).tolist()
        assert (await store.get_job("j1")).kind == "extract"
        assert len(await store.analytics_records(user)) == 1
        assert (await store.user_for_key_hash("h" * 64))[0].name == "ana"
        assert len(await store.memory_history(user, made["memories"][0])) == 1
    finally:
        await store.close()


def test_migrate_copies_verifies_and_is_idempotent(tmp_path):
    made = asyncio.run(fill(tmp_path / "data" / "memlane.db"))
    url = database_for(tmp_path)
    args = ["migrate", "--from", f"sqlite:///{tmp_path / 'data'}", "--to", url]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "memories: 5 rows, 5 in PostgreSQL" in first.output
    assert "verified" in first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-16:] == first.output.splitlines()[-16:]
    asyncio.run(check(url, made))


def test_migrate_refuses_a_missing_source(tmp_path):
    result = CliRunner().invoke(cli, ["migrate", "--from", f"sqlite:///{tmp_path}/none.db",
                                      "--to", "postgresql://x/y"])
    assert result.exit_code != 0 and "no SQLite database" in result.output
