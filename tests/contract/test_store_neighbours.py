"""Store contract: neighbours (the turns told around a turn)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_store_contract import add

pytestmark = pytest.mark.anyio
DAY1 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


S1 = {"session": "s1"}


async def test_neighbours_in_insertion_order_within_the_time_gap(store):
    session1 = [await add(store, "u1", f"turn {i}", occurred_at=DAY1, metadata=S1)
                for i in range(5)]
    later = await add(store, "u1", "next session", occurred_at=DAY1 + timedelta(days=3),
                      metadata=S1)
    await add(store, "u2", "other user's turn", occurred_at=DAY1, metadata=S1)
    found = await store.neighbours("u1", [session1[2].id, session1[4].id], window=1,
                                   max_gap_s=6 * 3600)
    assert found[session1[2].id] == [session1[1].id, session1[3].id]
    assert found[session1[4].id] == [session1[3].id], "the next session is too far in time"
    wide = await store.neighbours("u1", [session1[0].id], window=2, max_gap_s=6 * 3600)
    assert wide[session1[0].id] == [session1[1].id, session1[2].id]
    assert later.id not in str(wide)


async def test_neighbours_are_scoped_by_user(store):
    mine = await add(store, "u1", "mine", occurred_at=DAY1, metadata=S1)
    await add(store, "u2", "theirs", occurred_at=DAY1, metadata=S1)
    assert await store.neighbours("u2", [mine.id], window=2, max_gap_s=1e9) == {}
    found = await store.neighbours("u1", [mine.id], window=2, max_gap_s=1e9)
    assert found == {mine.id: []}


async def test_only_memories_of_the_same_session_are_neighbours(store):
    """Independent notes told minutes apart are not one exchange (issue 12, point 5)."""
    car = await add(store, "u1", "car parked on level 3", occurred_at=DAY1)
    await add(store, "u1", "dentist on Tuesday", occurred_at=DAY1)
    chat = [await add(store, "u1", f"chat {i}", occurred_at=DAY1,
                      metadata={"conversation_id": "c1"}) for i in range(2)]
    other = await add(store, "u1", "another chat", occurred_at=DAY1,
                      metadata={"conversation_id": "c2"})
    tale = await add(store, "u1", "transcript line", occurred_at=DAY1,
                     metadata={"session": 7})
    after = await add(store, "u1", "next transcript line", occurred_at=DAY1,
                      metadata={"session": 7})
    found = await store.neighbours("u1", [car.id, chat[1].id, tale.id], window=3,
                                   max_gap_s=6 * 3600)
    assert found[car.id] == []
    assert found[chat[1].id] == [chat[0].id]
    assert found[tale.id] == [after.id]
    assert other.id not in str(found)
