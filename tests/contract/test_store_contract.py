"""The Store contract, written against the interface only: runs unchanged on every store."""
from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from memlane import errors
from memlane.domain import Chunk, EntityMention, Memory, MemoryFilter, MemoryType, Source

pytestmark = pytest.mark.anyio

DIM = 8
T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
ALL = MemoryFilter()


def vec(*weights: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[:len(weights)] = weights
    return v / np.linalg.norm(v)


def axis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def make(user: str, text: str, **fields) -> Memory:
    fields.setdefault("content_hash", hashlib.sha256(text.encode()).hexdigest())
    return Memory(id=uuid.uuid4().hex, user_id=user, text=text, **fields)


def chunks_of(text: str, vector=None, *more: tuple[str, np.ndarray]) -> list[Chunk]:
    out = [Chunk(0, text, 0, len(text), vector if vector is not None else axis(0))]
    for i, (t, v) in enumerate(more, start=1):
        out.append(Chunk(i, t, 0, len(t), v))
    return out


def ents(*names: str) -> list[EntityMention]:
    return [EntityMention(n, "PERSON") for n in names]


async def add(store, user, text, *, vector=None, entities=(), chunks=None, **fields):
    memory = make(user, text, **fields)
    return await store.insert_memory(memory, chunks or chunks_of(text, vector),
                                     ents(*entities), actor="test")


def ids(hits) -> list[str]:
    return [h.memory_id for h in hits]


# lifecycle ---------------------------------------------------------------------------------
async def test_ping_and_data_survive_reopen(store, store_factory):
    assert await store.ping()
    m = await add(store, "u1", "persisted across restarts")
    await store.close()
    again = store_factory()
    await again.open()
    try:
        assert (await again.get_memory("u1", m.id)).text == "persisted across restarts"
    finally:
        await again.close()
    await store.open()


# memories ----------------------------------------------------------------------------------
async def test_round_trip_every_field(store):
    memory = make("u1", "Met Ana in Lisbon", type=MemoryType.episodic, source=Source.voice,
                  created_at=T0, updated_at=T0 + timedelta(seconds=1),
                  occurred_at=T0 - timedelta(days=3),
                  metadata={"topic": "travel", "n": 3, "ok": True, "tags": ["a", "b"],
                            "nested": {"x": 1.5}, "none": None},
                  importance=0.8, confidence=0.9, access_count=2,
                  last_accessed_at=T0 + timedelta(hours=1), emotion="joy",
                  client_id="c-1", valid_until=T0 + timedelta(days=3650))
    stored = await store.insert_memory(memory, chunks_of(memory.text),
                                       ents("Ana", "Lisbon"), actor="test")
    got = await store.get_memory("u1", memory.id)
    for m in (stored, got):
        assert m == Memory(**{**memory.__dict__, "entities": ["Ana", "Lisbon"]})
        assert m.created_at.tzinfo is not None and m.created_at.utcoffset() == timedelta(0)
    assert await store.get_memory("u1", "missing") is None


async def test_datetimes_come_back_in_utc(store):
    m = await add(store, "u1", "naive", created_at=datetime(2024, 1, 1, 8, 0))
    got = await store.get_memory("u1", m.id)
    assert got.created_at == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    plus2 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    m2 = await add(store, "u1", "offset", occurred_at=plus2)
    got = (await store.get_memory("u1", m2.id)).occurred_at
    assert got == plus2 and got.utcoffset() == timedelta(0)


async def test_entities_deduplicated_by_name_case_insensitively(store):
    m = await store.insert_memory(make("u1", "x"), chunks_of("x"),
                                  ents("Ana", "ana ", "ANA", "Bo", ""), actor="t")
    assert m.entities == ["Ana", "Bo"]
    later = await store.insert_memory(make("u1", "y"), chunks_of("y"), ents("ANA"), actor="t")
    assert later.entities == ["Ana"]  # the first-seen display name is kept


async def test_memory_count_is_every_users_memories(store):
    assert await store.memory_count() == 0
    first = await add(store, "u1", "one")
    await add(store, "u2", "two")
    assert await store.memory_count() == 2
    await store.delete_memory("u1", first.id, actor="test")
    assert await store.memory_count() == 1


async def test_get_memories_returns_only_found(store):
    a = await add(store, "u1", "a", entities=["Ana"])
    b = await add(store, "u1", "b")
    got = await store.get_memories("u1", [a.id, "nope", b.id])
    assert set(got) == {a.id, b.id} and got[a.id].entities == ["Ana"]
    assert await store.get_memories("u1", []) == {}


async def test_find_memory_by_client_id_and_hash(store):
    m = await add(store, "u1", "same text", client_id="cid")
    assert (await store.find_memory("u1", client_id="cid")).id == m.id
    assert (await store.find_memory("u1", content_hash=m.content_hash)).id == m.id
    assert await store.find_memory("u1", client_id="other") is None
    assert await store.find_memory("u1", content_hash="0" * 64) is None
    assert await store.find_memory("u1") is None


async def test_duplicate_client_id_conflicts_and_stores_nothing(store):
    await add(store, "u1", "first", client_id="cid")
    dup = make("u1", "second", client_id="cid")
    with pytest.raises(errors.Conflict):
        await store.insert_memory(dup, chunks_of("second"), ents("Zed"), actor="t")
    assert await store.get_memory("u1", dup.id) is None
    assert await store.memory_history("u1", dup.id) == []
    assert await store.list_entities("u1") == []
    # the same client id belongs to each user separately
    await add(store, "u2", "other user", client_id="cid")


async def test_insert_is_one_transaction(store):
    memory = make("u1", "broken chunks")
    bad = [Chunk(0, "broken", 0, 6, axis(0)), Chunk(0, "chunks", 7, 13, axis(1))]
    with pytest.raises(Exception):  # noqa: B017 - the error type is the store's own
        await store.insert_memory(memory, bad, ents("Ana"), actor="t")
    assert await store.get_memory("u1", memory.id) is None
    assert await store.keyword_search("u1", ["broken"], ALL, 10) == []
    assert await store.list_entities("u1") == []
    assert await store.memory_history("u1", memory.id) == []


async def test_list_filters_and_pagination(store):
    day = timedelta(days=1)
    a = await add(store, "u1", "a", type=MemoryType.episodic, created_at=T0,
                  metadata={"topic": "work", "n": 1, "flag": True}, entities=["Ana"])
    b = await add(store, "u1", "b", created_at=T0 + day, occurred_at=T0 - 5 * day,
                  metadata={"topic": "home", "n": "1", "obj": {"k": [1, 2]}})
    c = await add(store, "u1", "c", type=MemoryType.profile, created_at=T0 + 2 * day,
                  metadata={"topic": "work", "flag": False}, entities=["ana", "Bo"])
    gone = await add(store, "u1", "old", created_at=T0 + 3 * day,
                     valid_until=datetime.now(UTC) - timedelta(seconds=1))

    async def listed(**kw):
        page, total = await store.list_memories("u1", MemoryFilter(**kw), limit=10)
        return [m.id for m in page], total

    assert await listed() == ([c.id, a.id, b.id], 3)  # event time, newest first
    assert await listed(include_superseded=True) == ([gone.id, c.id, a.id, b.id], 4)
    assert await listed(types=[MemoryType.episodic, MemoryType.profile]) == ([c.id, a.id], 2)
    assert await listed(since=T0) == ([c.id, a.id], 2)
    assert await listed(since=T0, until=T0 + day) == ([a.id], 1)  # inclusive bounds
    assert await listed(until=T0 - day) == ([b.id], 1)
    assert await listed(metadata={"topic": "work"}) == ([c.id, a.id], 2)
    assert await listed(metadata={"topic": "work", "flag": True}) == ([a.id], 1)
    assert await listed(metadata={"n": 1}) == ([a.id], 1)
    assert await listed(metadata={"n": "1"}) == ([b.id], 1)
    assert await listed(metadata={"obj": {"k": [1, 2]}}) == ([b.id], 1)
    assert await listed(metadata={"missing": "x"}) == ([], 0)
    assert await listed(entity="ANA") == ([c.id, a.id], 2)
    assert await listed(entity="bo") == ([c.id], 1)

    page, total = await store.list_memories("u1", ALL, limit=2, offset=1, newest_first=False)
    assert [m.id for m in page] == [a.id, c.id] and total == 3
    assert page[1].entities == ["Ana", "Bo"]


async def test_update_without_rechunking(store):
    m = await add(store, "u1", "the quick brown fox", entities=["Fox"])
    changed = Memory(**{**m.__dict__, "metadata": {"k": "v"}, "importance": 0.1,
                        "updated_at": T0, "valid_until": T0 + timedelta(days=9999)})
    out = await store.update_memory(changed, old_text=m.text, actor="t")
    got = await store.get_memory("u1", m.id)
    assert got == out and got.metadata == {"k": "v"} and got.importance == 0.1
    assert got.entities == ["Fox"] and got.updated_at == T0
    assert ids(await store.keyword_search("u1", ["fox"], ALL, 5)) == [m.id]


async def test_update_with_rechunking_and_relinking(store):
    m = await add(store, "u1", "the quick brown fox", entities=["Fox", "Dog"])
    await add(store, "u1", "a dog barks", entities=["Dog"])
    new = Memory(**{**m.__dict__, "text": "a lazy sleeping cat"})
    out = await store.update_memory(new, old_text=m.text, actor="t",
                                    chunks=chunks_of(new.text, axis(3)),
                                    mentions=ents("Cat"))
    assert out.text == "a lazy sleeping cat" and out.entities == ["Cat"]
    assert ids(await store.keyword_search("u1", ["cat"], ALL, 5)) == [m.id]
    assert await store.keyword_search("u1", ["fox", "quick"], ALL, 5) == []
    assert ids(await store.vector_search("u1", axis(3), ALL, 1)) == [m.id]
    assert await store.entity_search("u1", ["fox"], ALL, 5) == []
    names = {e.name: e.memory_count for e in await store.list_entities("u1")}
    assert names == {"Cat": 1, "Dog": 1}


async def test_update_missing_is_not_found(store):
    with pytest.raises(errors.NotFound):
        await store.update_memory(make("u1", "nope"), old_text="", actor="t")


async def test_update_to_taken_client_id_conflicts(store):
    await add(store, "u1", "a", client_id="one")
    b = await add(store, "u1", "b", client_id="two")
    with pytest.raises(errors.Conflict):
        await store.update_memory(Memory(**{**b.__dict__, "client_id": "one"}),
                                  old_text=b.text, actor="t")
    assert (await store.get_memory("u1", b.id)).client_id == "two"


async def test_delete_removes_derived_rows(store):
    a = await add(store, "u1", "zebra crossing in Paris", vector=axis(1),
                  entities=["Paris", "Zoe"])
    b = await add(store, "u1", "lunch in Paris", vector=axis(2), entities=["Paris"])
    assert await store.delete_memory("u1", a.id, actor="t") is True
    assert await store.delete_memory("u1", a.id, actor="t") is False
    assert await store.get_memory("u1", a.id) is None
    assert await store.keyword_search("u1", ["zebra"], ALL, 5) == []
    assert ids(await store.vector_search("u1", axis(1), ALL, 5)) == [b.id]
    assert await store.vector_scores("u1", axis(1), [a.id]) == {}
    assert await store.entity_search("u1", ["Zoe"], ALL, 5) == []
    hits = await store.entity_search("u1", ["Paris"], ALL, 5)
    assert ids(hits) == [b.id]
    assert [(e.name, e.memory_count) for e in await store.list_entities("u1")] == [("Paris", 1)]


async def test_history_in_order_and_kept_after_delete(store):
    m = await add(store, "u1", "v1")
    await store.update_memory(Memory(**{**m.__dict__, "text": "v2"}), old_text="v1",
                              actor="user", chunks=chunks_of("v2"))
    await store.delete_memory("u1", m.id, actor="admin")
    history = await store.memory_history("u1", m.id)
    assert [(h.event, h.old_text, h.new_text, h.actor) for h in history] == [
        ("ADD", None, "v1", "test"), ("UPDATE", "v1", "v2", "user"),
        ("DELETE", "v2", None, "admin")]
    assert all(h.memory_id == m.id and h.user_id == "u1" for h in history)
    assert history[0].created_at <= history[1].created_at <= history[2].created_at
    assert len({h.id for h in history}) == 3


async def test_delete_all_memories(store):
    a = await add(store, "u1", "alpha", entities=["Ana"])
    await add(store, "u1", "beta", entities=["Ana", "Bo"])
    keep = await add(store, "u2", "alpha too", entities=["Ana"])
    assert await store.delete_all_memories("u1", actor="t") == 2
    assert await store.list_memories("u1", ALL, limit=10) == ([], 0)
    assert await store.keyword_search("u1", ["alpha"], ALL, 5) == []
    assert await store.vector_search("u1", axis(0), ALL, 5) == []
    assert await store.list_entities("u1") == []
    assert [h.event for h in await store.memory_history("u1", a.id)] == ["ADD", "DELETE"]
    assert ids(await store.keyword_search("u2", ["alpha"], ALL, 5)) == [keep.id]
    assert [e.name for e in await store.list_entities("u2")] == ["Ana"]
    assert await store.delete_all_memories("u1", actor="t") == 0


async def test_record_access(store):
    m = await add(store, "u1", "seen")
    at = T0 + timedelta(days=1)
    await store.record_access("u1", [m.id, "missing"], at)
    await store.record_access("u1", [m.id], at + timedelta(hours=1))
    got = await store.get_memory("u1", m.id)
    assert got.access_count == 2 and got.last_accessed_at == at + timedelta(hours=1)
    await store.record_access("u1", [], at)


# keyword search ----------------------------------------------------------------------------
async def test_keyword_ranking_stemming_and_best_chunk(store):
    strong = await add(store, "u1", "running running running shoes")
    weak = await add(store, "u1", "a long note that mentions runs once among many other words")
    two = await add(store, "u1", "x", chunks=chunks_of("she runs", axis(0),
                                                       ("he runs daily", axis(1))))
    for i in range(5):
        await add(store, "u1", f"unrelated filler text number {i}")
    hits = await store.keyword_search("u1", ["run"], ALL, 10)
    assert set(ids(hits)) == {strong.id, weak.id, two.id} and len(hits) == 3
    assert hits[0].memory_id == strong.id and hits[-1].memory_id == weak.id
    assert all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert ids(await store.keyword_search("u1", ["run"], ALL, 1)) == [strong.id]
    assert set(ids(await store.keyword_search("u1", ["shoes", "daily"], ALL, 10))) == {
        strong.id, two.id}


async def test_keyword_ranking_uses_the_users_own_statistics(store):
    """A word rare among this user's memories outranks one they use all the time, however
    common it is in other users' memories (and the scores are the ones the user's chunks
    alone would give)."""
    said = [await add(store, "a", f"Caroline said {w} today") for w in
            ("hello", "goodbye", "thanks", "sorry", "maybe", "welcome")]
    guitar = await add(store, "a", "bought a guitar yesterday")
    alone = await store.keyword_search("a", ["caroline", "guitar"], ALL, 10)
    for i in range(30):
        await add(store, "b", f"guitar lesson number {i}")
    shared = await store.keyword_search("a", ["caroline", "guitar"], ALL, 10)
    assert shared[0].memory_id == guitar.id
    assert set(ids(shared)) == {guitar.id, *(m.id for m in said)}
    assert [round(h.score, 6) for h in shared] == [round(h.score, 6) for h in alone]


@pytest.mark.parametrize("terms", [
    ['"'], ['"quoted"'], ["AND"], ["OR", "NOT"], ["*"], ["foo*"], ["-"], ["-foo"], [":"],
    ["text:foo"], ["owner:x"], ["("], [")"], ["(foo"], ["NEAR(a b)"], ["^foo"], ["{a b}"],
    ["'"], ["\\"], [""], ["   "], ["🙂"], ["ünïcode"], ["a\x00b"], ["%", "_"], []])
@pytest.mark.parametrize("others", [0, 1], ids=["alone", "shared"])
async def test_keyword_odd_input_never_raises(store, terms, others):
    m = await add(store, "u1", "foo and or not text owner quoted ünïcode")
    for _ in range(others):  # another user's memory: the store's per-user statistics path
        await add(store, "u2", "foo and or not text owner quoted ünïcode")
    hits = await store.keyword_search("u1", terms, ALL, 5)
    assert set(ids(hits)) <= {m.id}


async def test_keyword_operator_words_are_plain_terms(store):
    m = await add(store, "u1", "cats AND dogs")
    await add(store, "u1", "birds only")
    assert ids(await store.keyword_search("u1", ["and"], ALL, 5)) == [m.id]
    assert await store.keyword_search("u1", [], ALL, 5) == []


@pytest.mark.parametrize("others", [0, 30], ids=["alone", "shared"])
async def test_keyword_filter_and_superseded(store, others):
    for i in range(others):  # other users' tea: the store's per-user statistics path
        await add(store, f"v{i % 3}", f"tea number {i}")
    old = await add(store, "u1", "tea is my drink", type=MemoryType.profile,
                    valid_until=datetime.now(UTC) - timedelta(minutes=1))
    new = await add(store, "u1", "coffee beats tea", type=MemoryType.semantic)
    assert ids(await store.keyword_search("u1", ["tea"], ALL, 5)) == [new.id]
    both = await store.keyword_search("u1", ["tea"], MemoryFilter(include_superseded=True), 5)
    assert set(ids(both)) == {old.id, new.id}
    only = MemoryFilter(types=[MemoryType.profile], include_superseded=True)
    assert ids(await store.keyword_search("u1", ["tea"], only, 5)) == [old.id]


# vector search -----------------------------------------------------------------------------
async def test_vector_search_order_filter_and_scores(store):
    a = await add(store, "u1", "a", vector=vec(1, 0))
    b = await add(store, "u1", "b", vector=vec(1, 1))
    c = await add(store, "u1", "c", chunks=chunks_of("c", vec(0, 1), ("c2", vec(1, 0.1))),
                  type=MemoryType.profile)
    hits = await store.vector_search("u1", vec(1, 0), ALL, 10)
    assert ids(hits) == [a.id, c.id, b.id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(float(vec(1, 0.1) @ vec(1, 0)), abs=1e-5)
    assert ids(await store.vector_search("u1", vec(1, 0), ALL, 2)) == [a.id, c.id]
    only = MemoryFilter(types=[MemoryType.profile])
    assert ids(await store.vector_search("u1", vec(1, 0), only, 10)) == [c.id]
    # an unnormalised query is still cosine
    assert ids(await store.vector_search("u1", 5 * vec(0, 1), ALL, 1)) == [c.id]
    scores = await store.vector_scores("u1", vec(0, 1), [a.id, c.id, "missing"])
    assert set(scores) == {a.id, c.id}
    assert scores[c.id] == pytest.approx(1.0, abs=1e-5)
    assert scores[a.id] == pytest.approx(0.0, abs=1e-5)


async def test_vector_search_sees_writes_at_once(store):
    assert await store.vector_search("u1", axis(4), ALL, 5) == []
    a = await add(store, "u1", "a", vector=axis(4))
    assert ids(await store.vector_search("u1", axis(4), ALL, 5)) == [a.id]
    b = await add(store, "u1", "b", vector=vec(0, 0, 0, 0, 1, 1))
    assert ids(await store.vector_search("u1", axis(4), ALL, 5)) == [a.id, b.id]
    await store.delete_memory("u1", a.id, actor="t")
    assert ids(await store.vector_search("u1", axis(4), ALL, 5)) == [b.id]


async def test_vector_search_follows_adds_rechunks_and_deletes_in_turn(store):
    """A search between each write sees exactly the current vectors (the SQLite store
    reads only the new rows after an add, and everything after a change)."""
    async def matching(v):  # the memories whose vectors match v
        return {h.memory_id for h in await store.vector_search("u1", v, ALL, 10)
                if h.score > 0.9}

    a = await add(store, "u1", "a", vector=axis(5))
    assert await matching(axis(5)) == {a.id}
    b = await add(store, "u1", "b", chunks=chunks_of("b", axis(6), ("b2", axis(5))))
    assert await matching(axis(5)) == {a.id, b.id}
    await store.update_memory(Memory(**{**a.__dict__, "text": "a2"}), old_text="a",
                              actor="t", chunks=chunks_of("a2", axis(7)))
    assert await matching(axis(5)) == {b.id}
    c = await add(store, "u1", "c", vector=axis(7))
    assert await matching(axis(7)) == {a.id, c.id}
    await store.delete_memory("u1", c.id, actor="t")
    d = await add(store, "u1", "d", vector=axis(7))
    assert await matching(axis(7)) == {a.id, d.id}
    assert await matching(axis(6)) == {b.id}


async def test_writes_through_another_store_instance_are_seen(store, store_factory):
    first = await add(store, "u1", "first", vector=axis(2))
    assert ids(await store.vector_search("u1", axis(2), ALL, 5)) == [first.id]  # warm caches
    other = store_factory()
    await other.open()
    try:
        second = await add(other, "u1", "second", vector=vec(0, 0, 1, 1))
        await other.delete_memory("u1", first.id, actor="t")
    finally:
        await other.close()
    assert ids(await store.vector_search("u1", axis(2), ALL, 5)) == [second.id]


async def test_vector_search_many_candidates_with_selective_filter(store):
    rng = np.random.default_rng(7)
    wanted = None
    for i in range(150):
        v = rng.normal(size=DIM).astype(np.float32)
        kind = MemoryType.procedural if i == 120 else MemoryType.semantic
        m = await add(store, "u1", f"m{i}", vector=v / np.linalg.norm(v), type=kind)
        wanted = m.id if i == 120 else wanted
    flt = MemoryFilter(types=[MemoryType.procedural])
    assert ids(await store.vector_search("u1", rng.normal(size=DIM), flt, 3)) == [wanted]


# entities ----------------------------------------------------------------------------------
async def test_entity_search_direct_and_related(store):
    both = await add(store, "u1", "Ana and Bo in Rome", entities=["Ana", "Bo", "Rome"])
    ana = await add(store, "u1", "Ana again with Bo", entities=["Ana", "Bo"])
    bo = await add(store, "u1", "Bo alone", entities=["Bo"])
    rome = await add(store, "u1", "Rome trip", entities=["Rome"])
    await add(store, "u1", "Cy elsewhere", entities=["Cy"])

    direct = await store.entity_search("u1", ["ana"], ALL, 10, related=False)
    assert set(ids(direct)) == {both.id, ana.id}
    assert all(h.score == 1.0 and h.detail["related"] is False for h in direct)
    assert all(h.detail["entities"][0] == "Ana" for h in direct)

    two = await store.entity_search("u1", ["ANA", "bo"], ALL, 10, related=False)
    scores = {h.memory_id: h.score for h in two}
    assert scores == {both.id: 2.0, ana.id: 2.0, bo.id: 1.0}

    hits = await store.entity_search("u1", ["Ana"], ALL, 10)
    by_id = {h.memory_id: h for h in hits}
    assert set(by_id) == {both.id, ana.id, bo.id, rome.id}  # never Cy
    assert by_id[bo.id].detail == {"entities": ["Bo"], "related": True}
    assert by_id[rome.id].detail["related"] is True
    # Bo co-occurs with Ana twice (strength 1.0), Rome once (0.5)
    assert by_id[bo.id].score == pytest.approx(0.5)
    assert by_id[rome.id].score == pytest.approx(0.25)
    assert by_id[both.id].score > 1.0 and ids(hits)[-1] == rome.id
    assert await store.entity_search("u1", ["nobody"], ALL, 10) == []
    assert await store.entity_search("u1", [], ALL, 10) == []
    assert len(await store.entity_search("u1", ["Ana"], ALL, 1)) == 1


async def test_relations_follow_deletes_and_relinks(store):
    pair = await add(store, "u1", "Ana with Bo", entities=["Ana", "Bo"])
    bo = await add(store, "u1", "Bo alone", entities=["Bo"])
    ana = await add(store, "u1", "Ana alone", entities=["Ana"])
    assert set(ids(await store.entity_search("u1", ["Ana"], ALL, 10))) == {
        pair.id, bo.id, ana.id}
    await store.update_memory(pair, old_text=pair.text, actor="t", mentions=ents("Ana", "Cy"))
    assert set(ids(await store.entity_search("u1", ["Ana"], ALL, 10))) == {pair.id, ana.id}
    await store.delete_memory("u1", pair.id, actor="t")
    assert ids(await store.entity_search("u1", ["Ana"], ALL, 10)) == [ana.id]
    assert ids(await store.entity_search("u1", ["Bo"], ALL, 10)) == [bo.id]


async def test_entity_search_applies_filter(store):
    await add(store, "u1", "Ana work", entities=["Ana"], metadata={"t": "work"})
    home = await add(store, "u1", "Ana home", entities=["Ana"], metadata={"t": "home"})
    flt = MemoryFilter(metadata={"t": "home"})
    assert ids(await store.entity_search("u1", ["Ana"], flt, 10)) == [home.id]


async def test_list_entities_counts_order_query_paging(store):
    await add(store, "u1", "1", entities=["Bo", "Ana"])
    await add(store, "u1", "2", entities=["Bo", "Cy"])
    await add(store, "u1", "3", entities=["Bo", "Anabel"])
    listed = await store.list_entities("u1")
    assert [(e.name, e.memory_count) for e in listed] == [
        ("Bo", 3), ("Ana", 1), ("Anabel", 1), ("Cy", 1)]
    assert all(e.user_id == "u1" and e.label == "PERSON" and e.id for e in listed)
    assert [e.name for e in await store.list_entities("u1", query="ANA")] == ["Ana", "Anabel"]
    assert [e.name for e in await store.list_entities("u1", limit=2, offset=1)] == [
        "Ana", "Anabel"]


# users and keys ----------------------------------------------------------------------------
async def test_users(store):
    alice = await store.create_user("alice", is_admin=True)
    bob = await store.create_user("bob", user_id="bob-id")
    assert bob.id == "bob-id" and alice.id
    with pytest.raises(errors.Conflict):
        await store.create_user("alice")
    assert await store.get_user(alice.id) == alice
    assert (await store.get_user_by_name("bob")).id == "bob-id"
    assert await store.get_user("nobody") is None
    assert await store.get_user_by_name("nobody") is None
    assert {u.name for u in await store.list_users()} == {"alice", "bob"}
    assert (await store.get_user(alice.id)).is_admin is True


async def test_api_keys(store):
    user = await store.create_user("alice")
    key = await store.add_api_key(user.id, name="laptop", prefix="ml_ab", key_hash="h1")
    assert key.user_id == user.id and key.revoked is False and key.last_used_at is None
    found = await store.user_for_key_hash("h1")
    assert found is not None
    owner, used = found
    assert owner.id == user.id and used.id == key.id and used.last_used_at is not None
    listed = await store.list_api_keys(user.id)
    assert [k.id for k in listed] == [key.id] and listed[0].last_used_at is not None
    assert await store.user_for_key_hash("unknown") is None
    assert await store.revoke_api_key(key.id) is True
    assert await store.user_for_key_hash("h1") is None
    assert (await store.list_api_keys(user.id))[0].revoked is True
    assert await store.revoke_api_key("missing") is False
    other = await store.create_user("bob")
    await store.add_api_key(other.id, name="phone", prefix="ml_cd", key_hash="h2")
    assert len(await store.list_api_keys()) == 2
    assert len(await store.list_api_keys(other.id)) == 1


async def test_delete_user_removes_everything(store):
    user = await store.create_user("alice")
    other = await store.create_user("bob")
    await store.add_api_key(user.id, name="k", prefix="p", key_hash="h1")
    await store.add_api_key(other.id, name="k", prefix="p", key_hash="h2")
    m = await add(store, user.id, "alice secret", entities=["Ana"])
    kept = await add(store, other.id, "bob secret", entities=["Ana"])
    assert await store.delete_user(user.id) is True
    assert await store.get_user(user.id) is None
    assert await store.user_for_key_hash("h1") is None
    assert await store.list_api_keys(user.id) == []
    assert await store.get_memory(user.id, m.id) is None
    assert await store.memory_history(user.id, m.id) == []
    assert await store.keyword_search(user.id, ["secret"], ALL, 5) == []
    assert await store.list_entities(user.id) == []
    assert await store.delete_user(user.id) is False
    assert (await store.user_for_key_hash("h2"))[0].id == other.id
    assert ids(await store.keyword_search(other.id, ["secret"], ALL, 5)) == [kept.id]


# isolation ---------------------------------------------------------------------------------
async def test_strict_user_isolation(store):
    b = await add(store, "B", "bob's private diary about zebras", vector=axis(5),
                  entities=["Zara"], client_id="cid", metadata={"k": "v"})
    a = await add(store, "A", "alice writes about horses", vector=axis(6), entities=["Hal"])
    everything = MemoryFilter(include_superseded=True)

    assert await store.get_memory("A", b.id) is None
    assert await store.get_memories("A", [a.id, b.id]) == {a.id: a}
    assert await store.find_memory("A", client_id="cid") is None
    assert await store.find_memory("A", content_hash=b.content_hash) is None
    page, total = await store.list_memories("A", everything, limit=100)
    assert [m.id for m in page] == [a.id] and total == 1
    assert (await store.list_memories("A", MemoryFilter(entity="Zara"), limit=10))[1] == 0
    assert (await store.list_memories("A", MemoryFilter(metadata={"k": "v"}), limit=10))[1] == 0

    assert await store.keyword_search("A", ["zebras", "diary", "bob"], everything, 10) == []
    assert ids(await store.vector_search("A", axis(5), everything, 10)) == [a.id]
    assert await store.vector_scores("A", axis(5), [b.id]) == {}
    assert await store.entity_search("A", ["Zara"], everything, 10) == []
    assert [e.name for e in await store.list_entities("A")] == ["Hal"]
    assert await store.memory_history("A", b.id) == []

    hijack = Memory(**{**b.__dict__, "user_id": "A", "text": "pwned"})
    with pytest.raises(errors.NotFound):
        await store.update_memory(hijack, old_text=b.text, actor="A",
                                  chunks=chunks_of("pwned"), mentions=ents("Evil"))
    assert await store.delete_memory("A", b.id, actor="A") is False
    await store.record_access("A", [b.id], T0)
    assert await store.delete_all_memories("A", actor="A") == 1

    after = await store.get_memory("B", b.id)
    assert after == b and after.access_count == 0
    assert ids(await store.keyword_search("B", ["zebras"], ALL, 10)) == [b.id]
    assert ids(await store.vector_search("B", axis(5), ALL, 10)) == [b.id]
    assert ids(await store.entity_search("B", ["zara"], ALL, 10)) == [b.id]
    assert [h.event for h in await store.memory_history("B", b.id)] == ["ADD"]
    assert [e.name for e in await store.list_entities("B")] == ["Zara"]


async def test_user_ids_that_stem_alike_stay_apart(store):
    await add(store, "run", "shared words here")
    mine = await add(store, "runs", "shared words here")
    assert ids(await store.keyword_search("runs", ["shared"], ALL, 10)) == [mine.id]


# concurrency -------------------------------------------------------------------------------
async def test_concurrent_inserts_all_persist(store):
    memories = [make("u1", f"memory number {i}") for i in range(200)]
    stored = await asyncio.gather(*(
        store.insert_memory(m, chunks_of(m.text, vec(1, i % 7)), ents(f"E{i % 5}"), actor="t")
        for i, m in enumerate(memories)))
    assert {m.id for m in stored} == {m.id for m in memories}
    page, total = await store.list_memories("u1", ALL, limit=500)
    assert total == 200 and len(page) == 200
    assert sum(e.memory_count for e in await store.list_entities("u1")) == 200
    assert len(await store.keyword_search("u1", ["memory"], ALL, 500)) == 200


async def test_refresh_tokens_work_once_and_not_after_expiry(store):
    user = await store.create_user("tok")
    await store.add_refresh_token("j1", user.id, expires_at=2000.0)
    await store.add_refresh_token("j2", user.id, expires_at=1000.0)
    assert await store.use_refresh_token("j1", now=1500.0) == user.id
    assert await store.use_refresh_token("j1", now=1500.0) is None  # spent
    assert await store.use_refresh_token("j2", now=1500.0) is None  # expired
    assert await store.use_refresh_token("nope", now=1500.0) is None


async def test_user_state_updates(store):
    user = await store.create_user("state")
    assert (user.disabled, user.tokens_after) == (False, 0.0)
    assert await store.password_hash(user.id) is None
    changed = await store.update_user(user.id, disabled=True, tokens_after=1234.5,
                                      password_hash="scrypt$x", is_admin=True)
    assert (changed.disabled, changed.tokens_after, changed.is_admin) == (True, 1234.5, True)
    assert await store.get_user(user.id) == changed
    assert await store.password_hash(user.id) == "scrypt$x"
    assert (await store.update_user(user.id, disabled=False)).disabled is False
    assert await store.update_user("nobody", disabled=True) is None
    with pytest.raises(ValueError):
        await store.update_user(user.id, name="renamed")
