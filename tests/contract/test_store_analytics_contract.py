"""Store contract: analytics records (one per timed pipeline run)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from memlane.domain import AnalyticsRecord

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def record(user_id: str, at: datetime = T0, **fields) -> AnalyticsRecord:
    return AnalyticsRecord(id=uuid.uuid4().hex, user_id=user_id,
                           kind=fields.pop("kind", "search"), at=at, **fields)


async def users(store, *names: str) -> list[str]:
    return [(await store.create_user(name)).id for name in names]


async def test_round_trip(store):
    [alice] = await users(store, "alice")
    r = record(alice, kind="chat", conversation_id="c1",
               phases={"setup": 1.25, "retrieval_vector": 3.5, "total": 9.0},
               strategies={"vector": 4, "keyword": 0}, prompt_tokens=120,
               completion_tokens=30, cost=0.0042)
    assert await store.add_analytics([r]) == 1
    [got] = await store.analytics_records(alice)
    assert got == r
    assert got.at.utcoffset() == timedelta(0)


async def test_empty_and_repeated_writes(store):
    [alice] = await users(store, "alice")
    assert await store.add_analytics([]) == 0
    r = record(alice)
    assert await store.add_analytics([r]) == 1
    assert await store.add_analytics([r, record(alice)]) == 1  # the same id is kept once
    assert len(await store.analytics_records(alice)) == 2


async def test_records_of_a_missing_user_are_skipped_not_the_batch(store):
    [alice] = await users(store, "alice")
    assert await store.add_analytics([record("nobody"), record(alice)]) == 1
    assert [r.user_id for r in await store.analytics_records(None)] == [alice]


async def test_scoped_by_user_oldest_first(store):
    alice, bob = await users(store, "alice", "bob")
    late, early = record(alice, T0 + timedelta(hours=1)), record(alice, T0)
    theirs = record(bob, T0 + timedelta(minutes=30))
    await store.add_analytics([late, theirs, early])
    assert [r.id for r in await store.analytics_records(alice)] == [early.id, late.id]
    assert [r.id for r in await store.analytics_records(bob)] == [theirs.id]
    assert [r.id for r in await store.analytics_records(None)] == [early.id, theirs.id,
                                                                    late.id]
    assert await store.analytics_records("nobody") == []


async def test_window_conversation_and_limit(store):
    [alice] = await users(store, "alice")
    rs = [record(alice, T0 + timedelta(minutes=i), conversation_id="c1" if i % 2 else None)
          for i in range(5)]
    await store.add_analytics(rs)
    window = await store.analytics_records(alice, since=T0 + timedelta(minutes=1),
                                           until=T0 + timedelta(minutes=3))
    assert [r.id for r in window] == [rs[1].id, rs[2].id]  # since <= at < until
    assert [r.id for r in await store.analytics_records(alice, conversation_id="c1")] == [
        rs[1].id, rs[3].id]
    assert [r.id for r in await store.analytics_records(alice, limit=2)] == [rs[0].id,
                                                                              rs[1].id]
    naive = await store.analytics_records(alice, since=(T0 + timedelta(minutes=4)
                                                        ).replace(tzinfo=None))
    assert [r.id for r in naive] == [rs[4].id]  # naive datetimes are UTC


async def test_prune_deletes_every_users_older_records(store):
    alice, bob = await users(store, "alice", "bob")
    old = [record(alice, T0 - timedelta(days=91)), record(bob, T0 - timedelta(days=100))]
    kept = [record(alice, T0 - timedelta(days=89)), record(bob, T0)]
    await store.add_analytics([*old, *kept])
    assert await store.prune_analytics(T0 - timedelta(days=90)) == 2
    assert {r.id for r in await store.analytics_records(None)} == {r.id for r in kept}
    assert await store.prune_analytics(T0 - timedelta(days=90)) == 0


async def test_delete_user_removes_their_records(store):
    alice, bob = await users(store, "alice", "bob")
    theirs = record(bob)
    await store.add_analytics([record(alice), theirs])
    assert await store.delete_user(alice) is True
    assert await store.analytics_records(alice) == []
    assert [r.id for r in await store.analytics_records(None)] == [theirs.id]


async def test_records_survive_a_reopen(store_factory):
    first = store_factory()
    await first.open()
    [alice] = await users(first, "alice")
    r = record(alice, phases={"total": 2.0})
    await first.add_analytics([r])
    await first.close()
    second = store_factory()
    await second.open()
    try:
        assert await second.analytics_records(alice) == [r]
    finally:
        await second.close()
