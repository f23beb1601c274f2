"""Store contract: conversations, messages, summaries and persona chunks."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from memlane import errors
from memlane.domain import Chunk, Conversation, Message, Role, Summary

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
DIM = 8


def axis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


async def conv(store, user: str = "u1", **fields) -> Conversation:
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0)
    return await store.create_conversation(
        Conversation(id=uuid.uuid4().hex, user_id=user, **fields))


async def say(store, c: Conversation, content: str, *, role: Role = Role.user,
              user: str | None = None, **fields) -> Message:
    return await store.add_message(Message(
        id=uuid.uuid4().hex, conversation_id=c.id, user_id=user or c.user_id, role=role,
        content=content, **fields))


async def contents(store, c: Conversation, **kw) -> list[str]:
    return [m.content for m in await store.list_messages(c.user_id, c.id, **kw)]


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


# conversations -------------------------------------------------------------------------------
async def test_conversation_round_trip(store):
    c = Conversation(id=uuid.uuid4().hex, user_id="u1", title="Trip", persona="You are Ana.",
                     agent="default", created_at=T0, updated_at=T0 + timedelta(seconds=1),
                     metadata={"lang": "pt", "n": 2, "tags": ["a"]})
    stored = await store.create_conversation(c)
    got = await store.get_conversation("u1", c.id)
    assert stored == c and got == c
    assert is_utc(got.created_at) and is_utc(got.updated_at)
    assert await store.get_conversation("u1", "missing") is None
    with pytest.raises(errors.Conflict):
        await store.create_conversation(c)


async def test_naive_datetimes_come_back_in_utc(store):
    c = await conv(store, created_at=datetime(2024, 1, 1, 8), updated_at=datetime(2024, 1, 1, 9))
    got = await store.get_conversation("u1", c.id)
    assert got.created_at == datetime(2024, 1, 1, 8, tzinfo=UTC) and is_utc(got.updated_at)


async def test_update_conversation(store):
    c = await conv(store, title="old")
    changed = Conversation(**{**c.__dict__, "title": "new", "persona": "p", "agent": "a",
                              "metadata": {"k": "v"}, "updated_at": T0 + timedelta(hours=1)})
    out = await store.update_conversation(changed)
    got = await store.get_conversation("u1", c.id)
    assert out == got == changed
    with pytest.raises(errors.NotFound):
        await store.update_conversation(Conversation(id="missing", user_id="u1"))


async def test_list_conversations_most_recently_active_first(store):
    a = await conv(store, updated_at=T0)
    b = await conv(store, updated_at=T0 + timedelta(minutes=1))
    c = await conv(store, updated_at=T0 + timedelta(minutes=2))
    await conv(store, user="u2", updated_at=T0 + timedelta(hours=1))
    page, total = await store.list_conversations("u1", limit=10)
    assert [x.id for x in page] == [c.id, b.id, a.id] and total == 3
    await say(store, a, "hi", created_at=T0 + timedelta(minutes=5))
    page, total = await store.list_conversations("u1", limit=2)
    assert [x.id for x in page] == [a.id, c.id] and total == 3
    page, total = await store.list_conversations("u1", limit=2, offset=2)
    assert [x.id for x in page] == [b.id] and total == 3
    assert await store.list_conversations("nobody", limit=10) == ([], 0)


async def test_delete_conversation_removes_children(store):
    c = await conv(store)
    keep = await conv(store)
    for s in (c, keep):
        await say(store, s, "hello")
        await store.add_summary(Summary(id=uuid.uuid4().hex, conversation_id=s.id,
                                        user_id="u1", text="greeting", upto_seq=1))
        await store.replace_persona_chunks("u1", s.id, [Chunk(0, "persona", 0, 7, axis(0))])
    assert await store.delete_conversation("u1", c.id) is True
    assert await store.get_conversation("u1", c.id) is None
    assert await store.list_messages("u1", c.id) == []
    assert await store.count_messages("u1", c.id) == 0
    assert await store.latest_summary("u1", c.id) is None
    assert await store.persona_chunks("u1", c.id) == []
    assert await store.delete_conversation("u1", c.id) is False
    assert await contents(store, keep) == ["hello"]
    assert (await store.latest_summary("u1", keep.id)).text == "greeting"
    assert len(await store.persona_chunks("u1", keep.id)) == 1


# messages ------------------------------------------------------------------------------------
async def test_seq_is_per_conversation(store):
    a, b = await conv(store), await conv(store)
    assert [(await say(store, a, f"a{i}")).seq for i in range(3)] == [1, 2, 3]
    assert [(await say(store, b, f"b{i}")).seq for i in range(2)] == [1, 2]
    assert (await say(store, a, "a3")).seq == 4
    assert await store.count_messages("u1", a.id) == 4
    assert await store.count_messages("u1", b.id) == 2
    assert [m.seq for m in await store.list_messages("u1", a.id)] == [1, 2, 3, 4]


async def test_add_message_bumps_updated_at(store):
    c = await conv(store, updated_at=T0)
    later = T0 + timedelta(minutes=7)
    await say(store, c, "hi", created_at=later)
    assert (await store.get_conversation("u1", c.id)).updated_at == later


async def test_message_round_trip(store):
    c = await conv(store)
    m = Message(id=uuid.uuid4().hex, conversation_id=c.id, user_id="u1",
                role=Role.assistant, content="Olá!", created_at=T0, tokens=3,
                emotion="joy", importance=0.9, metadata={"model": "x", "ok": True},
                vector=np.array([0.25, -1.5, 3.0], dtype=np.float32))
    stored = await store.add_message(m)
    plain = await say(store, c, "no vector")
    first, second = await store.list_messages("u1", c.id)
    for got in (stored, first):
        assert got.seq == 1 and got.role == Role.assistant and got.content == "Olá!"
        assert got.created_at == T0 and is_utc(got.created_at)
        assert (got.tokens, got.emotion, got.importance) == (3, "joy", 0.9)
        assert got.metadata == {"model": "x", "ok": True}
        assert got.vector.dtype == np.float32 and np.allclose(got.vector, m.vector)
    assert plain.vector is None and second.vector is None
    assert (second.emotion, second.importance, second.metadata) == (None, 0.5, {})


async def test_emotion_timeline_is_the_users_own_feelings_oldest_first(store):
    a, b = await conv(store), await conv(store)
    other = await conv(store, user="u2")
    at = [T0 + timedelta(minutes=i) for i in range(6)]
    await say(store, a, "yay", emotion="joy", created_at=at[0])
    await say(store, a, "reply", role=Role.assistant, emotion="joy", created_at=at[1])
    await say(store, b, "sigh", emotion="sadness", created_at=at[2])
    await say(store, a, "plain", created_at=at[3])  # no emotion read
    await say(store, other, "theirs", emotion="joy", created_at=at[4])
    await say(store, b, "hooray", emotion="joy", created_at=at[5])
    texts = lambda found: [m.content for m in found]  # noqa: E731
    assert texts(await store.emotion_timeline("u1")) == ["yay", "sigh", "hooray"]
    assert texts(await store.emotion_timeline("u1", conversation_id=b.id)) == ["sigh",
                                                                               "hooray"]
    assert texts(await store.emotion_timeline("u1", emotion="joy")) == ["yay", "hooray"]
    assert texts(await store.emotion_timeline("u1", since=at[1], until=at[4])) == ["sigh"]
    assert texts(await store.emotion_timeline("u1", limit=2)) == ["sigh", "hooray"]
    assert texts(await store.emotion_timeline("u2", conversation_id=a.id)) == []


async def test_list_messages_windows_are_oldest_first(store):
    c = await conv(store)
    for i in range(1, 7):
        await say(store, c, f"m{i}")
    assert await contents(store, c) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert await contents(store, c, limit=2) == ["m1", "m2"]
    assert await contents(store, c, limit=2, last=True) == ["m5", "m6"]
    assert await contents(store, c, last=True) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert await contents(store, c, after_seq=4) == ["m5", "m6"]
    assert await contents(store, c, upto_seq=2) == ["m1", "m2"]
    assert await contents(store, c, after_seq=1, upto_seq=5, limit=2) == ["m2", "m3"]
    assert await contents(store, c, after_seq=1, upto_seq=5, limit=2, last=True) == ["m4", "m5"]
    assert await contents(store, c, limit=100, last=True) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert await contents(store, c, after_seq=6) == []


# summaries and persona chunks ----------------------------------------------------------------
async def test_latest_summary_has_highest_upto_seq(store):
    c = await conv(store)
    assert await store.latest_summary("u1", c.id) is None
    for upto, text in ((4, "to four"), (10, "to ten"), (7, "to seven")):
        stored = await store.add_summary(Summary(id=uuid.uuid4().hex, conversation_id=c.id,
                                                 user_id="u1", text=text, upto_seq=upto,
                                                 created_at=T0))
        assert stored.text == text and is_utc(stored.created_at)
    latest = await store.latest_summary("u1", c.id)
    assert (latest.text, latest.upto_seq, latest.created_at) == ("to ten", 10, T0)


async def test_persona_chunks_replace_and_round_trip(store):
    c = await conv(store)
    assert await store.persona_chunks("u1", c.id) == []
    await store.replace_persona_chunks("u1", c.id, [Chunk(0, "old", 0, 3, axis(7))])
    new = [Chunk(1, "second", 6, 12, axis(1)), Chunk(0, "first", 0, 5, axis(0)),
           Chunk(2, "no vector", 13, 22, None)]
    await store.replace_persona_chunks("u1", c.id, new)
    got = await store.persona_chunks("u1", c.id)
    assert [(g.index, g.text, g.start, g.end) for g in got] == [
        (0, "first", 0, 5), (1, "second", 6, 12), (2, "no vector", 13, 22)]
    assert np.allclose(got[0].vector, axis(0)) and got[0].vector.dtype == np.float32
    assert np.allclose(got[1].vector, axis(1)) and got[2].vector is None
    await store.replace_persona_chunks("u1", c.id, [])
    assert await store.persona_chunks("u1", c.id) == []


# isolation -----------------------------------------------------------------------------------
async def test_another_users_conversation_is_missing(store):
    theirs = await conv(store, user="B", title="private")
    await say(store, theirs, "secret")
    await store.add_summary(Summary(id=uuid.uuid4().hex, conversation_id=theirs.id,
                                    user_id="B", text="secret summary", upto_seq=1))
    await store.replace_persona_chunks("B", theirs.id, [Chunk(0, "p", 0, 1, axis(0))])

    assert await store.get_conversation("A", theirs.id) is None
    assert await store.list_conversations("A", limit=10) == ([], 0)
    assert await store.list_messages("A", theirs.id) == []
    assert await store.count_messages("A", theirs.id) == 0
    assert await store.latest_summary("A", theirs.id) is None
    assert await store.persona_chunks("A", theirs.id) == []
    with pytest.raises(errors.NotFound):
        await say(store, theirs, "intrusion", user="A")
    with pytest.raises(errors.NotFound):
        await store.update_conversation(Conversation(**{**theirs.__dict__, "user_id": "A",
                                                        "title": "pwned"}))
    assert await store.delete_conversation("A", theirs.id) is False

    assert (await store.get_conversation("B", theirs.id)).title == "private"
    assert await contents(store, theirs) == ["secret"]
    assert await store.count_messages("B", theirs.id) == 1
    assert len(await store.persona_chunks("B", theirs.id)) == 1


async def test_delete_user_removes_conversations(store):
    user = await store.create_user("alice")
    other = await store.create_user("bob")
    mine = await conv(store, user=user.id)
    theirs = await conv(store, user=other.id)
    for c in (mine, theirs):
        await say(store, c, "hello")
        await store.add_summary(Summary(id=uuid.uuid4().hex, conversation_id=c.id,
                                        user_id=c.user_id, text="s", upto_seq=1))
        await store.replace_persona_chunks(c.user_id, c.id, [Chunk(0, "p", 0, 1, axis(0))])
    assert await store.delete_user(user.id) is True
    assert await store.get_conversation(user.id, mine.id) is None
    assert await store.list_messages(user.id, mine.id) == []
    assert await store.latest_summary(user.id, mine.id) is None
    assert await store.persona_chunks(user.id, mine.id) == []
    assert await contents(store, theirs) == ["hello"]
    assert await store.latest_summary(other.id, theirs.id) is not None
