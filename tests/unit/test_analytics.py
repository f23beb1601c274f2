"""Analytics (SPEC G): every phase of a chat turn, an answer and a search is timed into a
record; records are buffered (written at 10, on a timer and at shutdown), kept 90 days and
summarised by GET /api/analytics, scoped to the caller."""
import time
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from memlane.analytics.summary import percentile, summarise
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.domain import AnalyticsRecord, utcnow
from support import add_user, run_jobs, sse_events

CHAT_PHASES = {"setup", "save_user", "query_analysis", "retrieval_vector", "retrieval_keyword",
               "retrieval_graph", "retrieval_profile", "retrieval_recent", "ranking",
               "retrieval", "context", "first_token", "generation", "save", "enqueue", "total"}
STRATEGIES = {"vector", "keyword", "graph", "profile", "recent"}
QUIET = {"analytics_flush_s": 3600.0}  # only the record count or a shutdown flushes


def turn(client, message, conversation_id=None, headers=None) -> dict:
    body = {"message": message, **({"conversation_id": conversation_id} if conversation_id
                                   else {})}
    r = client.post("/api/chat", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return sse_events(r.text)[-1][1]


def search(client, query="sister", headers=None) -> None:
    r = client.post("/api/search", json={"query": query}, headers=headers)
    assert r.status_code == 200, r.text


def stored(client, user_id=None) -> list[AnalyticsRecord]:
    """What the store holds (not the buffer)."""
    store = client.app.state.engine.store

    async def read():
        return await store.analytics_records(user_id)
    return client.portal.call(read)


def add_records(client, *records: AnalyticsRecord) -> None:
    store = client.app.state.engine.store

    async def write():
        await store.add_analytics(list(records))
    client.portal.call(write)


def record(at, user_id="local", **fields) -> AnalyticsRecord:
    return AnalyticsRecord(uuid.uuid4().hex, user_id, "search", at=at,
                           phases={"total": 1.0}, **fields)


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_after_a_chat_turn_every_phase_has_a_duration(client):
    client.post("/api/memories", json={"text": "My sister's birthday is June 14th."})
    done = turn(client, "I love birthdays. When is my sister's birthday?")
    body = client.get("/api/analytics").json()
    assert body["records"] == 1 and body["kinds"] == {"chat": 1}
    phases = body["phases"]["chat"]
    assert CHAT_PHASES <= set(phases), CHAT_PHASES - set(phases)
    assert all(p["count"] == 1 and p["p50_ms"] == p["p95_ms"] > 0 for p in phases.values()), phases
    assert phases["total"]["p50_ms"] == done["timings_ms"]["total"] > 0
    assert phases["first_token"]["p50_ms"] == done["timings_ms"]["first_token"]
    assert set(body["strategies"]) == STRATEGIES
    assert body["strategies"]["keyword"]["runs_with_hits"] == 1
    assert body["usage"]["completion_tokens"] == done["usage"]["completion_tokens"] > 0
    assert body["conversations"][0]["conversation_id"] == done["conversation_id"]


def test_answers_and_searches_are_recorded_by_kind(client):
    client.post("/api/memories", json={"text": "My sister's birthday is June 14th."})
    client.post("/api/ask", json={"question": "When is my sister's birthday?",
                                  "stream": False})
    search(client, "birthday")
    body = client.get("/api/analytics").json()
    assert body["kinds"] == {"ask": 1, "search": 1}
    assert {"retrieval", "context", "first_token", "generation"} <= set(body["phases"]["ask"])
    assert {"query_analysis", "retrieval_vector", "ranking"} <= set(body["phases"]["search"])
    assert body["strategies"]["keyword"] == {"runs": 2, "hits": 2, "runs_with_hits": 2}
    assert body["conversations"] == []


@pytest.mark.parametrize("stream", [False, True])
def test_openai_completions_are_recorded_with_their_phases_and_tokens(client, stream):
    client.post("/api/memories", json={"text": "My sister's birthday is June 14th."})
    r = client.post("/v1/chat/completions", json={
        "model": "memlane", "stream": stream,
        "messages": [{"role": "user", "content": "When is my sister's birthday?"}]})
    assert r.status_code == 200
    body = client.get("/api/analytics").json()
    assert body["kinds"] == {"completion": 1}
    phases = body["phases"]["completion"]
    assert {"query_analysis", "retrieval_keyword", "retrieval", "context", "first_token",
            "generation", "total"} <= set(phases)
    assert all(p["p50_ms"] > 0 for p in phases.values())
    assert body["strategies"]["keyword"]["runs_with_hits"] == 1
    assert body["usage"]["completion_tokens"] > 0


def test_a_clean_shutdown_right_after_a_turn_loses_no_record(tmp_path, make_client):
    settings = load_settings(data_dir=tmp_path / "data", embedder="hash", nlp="regex",
                             llm="scripted", stt="tone", vad="energy", tts="tone", **QUIET)
    with TestClient(create_app(settings)) as first:
        done = turn(first, "Remember that I parked on level 3")
        assert len(first.app.state.engine.analytics.buffer) == 1 and stored(first) == []
    body = make_client().get("/api/analytics").json()
    assert body["records"] == 1
    assert body["phases"]["chat"]["total"]["p50_ms"] == done["timings_ms"]["total"]


def test_ten_records_are_written_at_once_without_waiting_for_the_timer(make_client):
    client = make_client(**QUIET)
    for _ in range(9):
        search(client)
    assert stored(client) == []
    search(client)
    wait_for(lambda: len(stored(client)) == 10)
    assert client.app.state.engine.analytics.buffer == []


def test_the_timer_writes_a_lone_record(make_client):
    client = make_client(analytics_flush_s=0.05)
    search(client)
    wait_for(lambda: len(stored(client)) == 1)


def test_the_retention_job_prunes_what_is_older_than_90_days(make_client):
    client = make_client()
    retention = client.app.state.engine.retention
    assert client.portal.call(retention.schedule) is False  # nothing old: no job
    old, new = record(utcnow() - timedelta(days=91)), record(utcnow() - timedelta(days=89))
    add_records(client, old, new)
    assert client.portal.call(retention.schedule) is True
    run_jobs(client)
    assert [r.id for r in stored(client)] == [new.id]


def test_the_prune_job_is_queued_at_start(make_client):
    first = make_client()
    old = record(utcnow() - timedelta(days=100))
    add_records(first, old)
    assert [r.id for r in stored(first)] == [old.id]
    first.__exit__(None, None, None)
    second = make_client()
    run_jobs(second)
    assert stored(second) == []


def test_token_usage_and_cost_per_conversation(make_client):
    client = make_client(llm_cost_per_1k_prompt=1.0, llm_cost_per_1k_completion=2.0)
    a1 = turn(client, "I like green tea")
    a2 = turn(client, "And black coffee", a1["conversation_id"])
    b1 = turn(client, "Plan a trip to Oslo")
    body = client.get("/api/analytics").json()
    by_id = {c["conversation_id"]: c for c in body["conversations"]}
    a = by_id[a1["conversation_id"]]
    prompt = a1["usage"]["prompt_tokens"] + a2["usage"]["prompt_tokens"]
    completion = a1["usage"]["completion_tokens"] + a2["usage"]["completion_tokens"]
    assert a["turns"] == 2 and a["prompt_tokens"] == prompt
    assert a["completion_tokens"] == completion
    assert a["cost"] == pytest.approx((prompt * 1.0 + completion * 2.0) / 1000)
    assert by_id[b1["conversation_id"]]["turns"] == 1
    assert body["conversations"][0]["conversation_id"] == b1["conversation_id"]  # latest
    assert body["usage"]["cost"] == pytest.approx(a["cost"] + by_id[b1[
        "conversation_id"]]["cost"])
    one = client.get("/api/analytics", params={"conversation_id": b1["conversation_id"]})
    assert one.json()["records"] == 1


def test_the_window_defaults_to_the_last_day(client):
    add_records(client, record(utcnow() - timedelta(days=2)))
    search(client)
    assert client.get("/api/analytics").json()["records"] == 1
    since = (utcnow() - timedelta(days=3)).isoformat()
    assert client.get("/api/analytics", params={"since": since}).json()["records"] == 2
    until = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()  # naive: UTC
    assert client.get("/api/analytics", params={"since": since, "until": until}
                      ).json()["records"] == 1
    bad = client.get("/api/analytics", params={"since": until, "until": since})
    assert bad.status_code == 422 and bad.json()["param"] == "since"


def test_each_user_sees_only_their_own_records(make_client):
    client = make_client(auth_enabled=True, **QUIET)
    bob, carol, root = add_user(client, "bob"), add_user(client, "carol"), admin(client)
    ids = {name: client.get("/api/auth/me", headers=h).json()["id"]
           for name, h in {"bob": bob, "carol": carol}.items()}
    search(client, headers=bob)
    theirs = turn(client, "A secret of carol", headers=carol)
    mine = client.get("/api/analytics", headers=bob).json()
    assert mine["records"] == 1 and mine["user_id"] == ids["bob"]
    assert mine["kinds"] == {"search": 1} and mine["conversations"] == []
    for params in ({"all": "true"}, {"user_id": ids["carol"]}):
        r = client.get("/api/analytics", params=params, headers=bob)
        assert r.status_code == 403, r.text
    other = client.get("/api/analytics", params={"conversation_id": theirs[
        "conversation_id"]}, headers=bob)
    assert other.status_code == 404
    assert client.get("/api/analytics", params={"user_id": ids["bob"]},
                      headers=bob).json()["records"] == 1
    everyone = client.get("/api/analytics", params={"all": "true"}, headers=root).json()
    assert everyone["records"] == 2 and everyone["user_id"] is None
    assert client.get("/api/analytics", params={"user_id": ids["carol"]},
                      headers=root).json()["kinds"] == {"chat": 1}
    both = client.get("/api/analytics", params={"all": "true", "user_id": ids["bob"]},
                      headers=root)
    assert both.status_code == 422


def test_a_deleted_users_buffered_record_is_dropped_not_the_batch(make_client):
    client = make_client(auth_enabled=True, **QUIET)
    bob, carol = add_user(client, "bob"), add_user(client, "carol")
    search(client, headers=bob)
    search(client, headers=carol)
    engine = client.app.state.engine
    bob_id, carol_id = (client.get("/api/auth/me", headers=h).json()["id"] for h in (bob, carol))
    client.portal.call(engine.store.delete_user, carol_id)
    assert client.portal.call(engine.analytics.flush) == 1
    assert [r.user_id for r in stored(client)] == [bob_id]


def test_percentiles_by_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0 and percentile([3.0, 1.0], 50) == 1.0
    records = [AnalyticsRecord("a", "u", "chat", strategies={"vector": 0, "keyword": 3}),
               AnalyticsRecord("b", "u", "chat", strategies={"vector": 2})]
    assert summarise(records)["strategies"] == {
        "keyword": {"runs": 1, "hits": 3, "runs_with_hits": 1},
        "vector": {"runs": 2, "hits": 2, "runs_with_hits": 1}}


def admin(client) -> dict:
    accounts = client.app.state.engine.accounts

    async def work():
        user = await accounts.create_user("root", is_admin=True)
        return (await accounts.create_key(user.id))[1]
    return {"Authorization": f"Bearer {client.portal.call(work)}"}
