"""The REST door on a real SQLite store with fake models."""
import json
import time


def _add(client, text, **fields):
    r = client.post("/api/memories", json={"text": text, **fields})
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_health_reports_database_and_models(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["models"]["embedder"]["loaded"] and body["models"]["nlp"]["loaded"]


def test_add_returns_201_with_every_field(client):
    r = client.post("/api/memories", json={
        "text": "Wife's name is Sarah.", "type": "semantic", "metadata": {"topic": "family"},
        "importance": 0.9, "confidence": 0.8, "emotion": "joy",
        "occurred_at": "2024-01-05T10:00:00"})
    assert r.status_code == 201
    m = r.json()
    assert m["id"] and m["text"] == "Wife's name is Sarah." and m["type"] == "semantic"
    assert m["source"] == "typed" and m["metadata"] == {"topic": "family"}
    assert (m["importance"], m["confidence"], m["emotion"]) == (0.9, 0.8, "joy")
    assert m["occurred_at"].startswith("2024-01-05T10:00:00")
    assert m["access_count"] == 0 and "Sarah" in m["entities"]
    assert client.get(f"/api/memories/{m['id']}").json() == m


def test_client_id_is_idempotent_and_duplicates_are_not_stored_twice(client):
    first = client.post("/api/memories", json={"text": "Likes tea", "client_id": "k1"})
    again = client.post("/api/memories", json={"text": "Likes tea!", "client_id": "k1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    dup = client.post("/api/memories", json={"text": "  Likes   tea "})
    assert dup.status_code == 200 and dup.json()["id"] == first.json()["id"]
    assert client.get("/api/memories").json()["total"] == 1


def test_batch_adds_many_and_dedupes_inside_the_batch(client):
    r = client.post("/api/memories/batch", json={"memories": [
        {"text": "One fact"}, {"text": "Two fact"}, {"text": "One fact"}]})
    assert r.status_code == 201
    body = r.json()
    assert body["created"] == 2 and body["memories"][0]["id"] == body["memories"][2]["id"]


def test_list_filters_and_pages(client):
    _add(client, "Met Bob in Rome", type="episodic", occurred_at="2023-05-02T00:00:00Z",
         metadata={"trip": "italy"})
    _add(client, "Prefers short answers", type="profile")
    _add(client, "Went hiking", type="episodic", occurred_at="2023-07-01T00:00:00Z")
    assert client.get("/api/memories", params={"type": "profile"}).json()["total"] == 1
    in_may = client.get("/api/memories", params={"since": "2023-05-01T00:00:00Z",
                                                 "until": "2023-06-01T00:00:00Z"}).json()
    assert [m["text"] for m in in_may["memories"]] == ["Met Bob in Rome"]
    meta = client.get("/api/memories", params={"metadata": json.dumps({"trip": "italy"})})
    assert meta.json()["total"] == 1
    assert client.get("/api/memories", params={"entity": "bob"}).json()["total"] == 1
    page = client.get("/api/memories", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and len(page["memories"]) == 1


def test_update_reindexes_and_keeps_history(client):
    m = _add(client, "Lives in Lisbon")
    r = client.patch(f"/api/memories/{m['id']}", json={"text": "Lives in Porto"})
    assert r.status_code == 200 and r.json()["text"] == "Lives in Porto"
    hits = client.post("/api/search", json={"query": "Porto"}).json()["results"]
    assert [h["memory"]["id"] for h in hits] == [m["id"]]
    assert client.post("/api/search", json={"query": "Lisbon"}).json()["results"] == []
    client.delete(f"/api/memories/{m['id']}")
    history = client.get(f"/api/memories/{m['id']}/history").json()
    assert [h["event"] for h in history] == ["ADD", "UPDATE", "DELETE"]
    assert history[1]["old_text"] == "Lives in Lisbon"
    assert history[1]["new_text"] == "Lives in Porto"


def test_delete_then_unknown(client):
    m = _add(client, "Temporary thought")
    assert client.delete(f"/api/memories/{m['id']}").status_code == 204
    assert client.get(f"/api/memories/{m['id']}").status_code == 404
    assert client.delete(f"/api/memories/{m['id']}").status_code == 404
    assert client.patch("/api/memories/nope", json={"text": "x"}).status_code == 404


def test_delete_all_needs_confirmation(client):
    _add(client, "a fact")
    assert client.delete("/api/memories").status_code == 400
    assert client.get("/api/memories").json()["total"] == 1
    assert client.delete("/api/memories", params={"confirm": "true"}).json() == {"deleted": 1}
    assert client.get("/api/memories").json()["total"] == 0


def test_export_import_round_trip(client, make_client, tmp_path):
    _add(client, "Alice moved to Paris", type="episodic", metadata={"k": 1})
    _add(client, "Prefers tea", type="profile")
    exported = client.get("/api/memories/export")
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = exported.text.strip().splitlines()
    assert len(lines) == 2
    other = make_client(data_dir=tmp_path / "other")
    r = other.post("/api/memories/import", content=exported.text,
                   headers={"Content-Type": "application/x-ndjson"})
    assert r.json() == {"imported": 2, "existing": 0, "errors": []}
    again = other.post("/api/memories/import", content=exported.text).json()
    assert again["imported"] == 0 and again["existing"] == 2
    texts = {m["text"] for m in other.get("/api/memories").json()["memories"]}
    assert texts == {"Alice moved to Paris", "Prefers tea"}


def test_import_reports_bad_records_and_keeps_good_ones(client):
    body = '{"text": "good one"}\n{"text": ""}\n{"type": "nonsense", "text": "x"}\n'
    out = client.post("/api/memories/import", content=body).json()
    assert out["imported"] == 1 and len(out["errors"]) == 2
    assert client.post("/api/memories/import", content="{not json").status_code == 400


def test_search_returns_reasons(client):
    m = _add(client, "The wifi password is zebra42")
    _add(client, "Something unrelated entirely")
    out = client.post("/api/search", json={"query": "zebra42 password", "limit": 5}).json()
    top = out["results"][0]
    assert top["memory"]["id"] == m["id"]
    assert "keyword" in top["reasons"]["strategies"]
    assert set(top["reasons"]["signals"]) >= {"keyword", "vector", "reliability", "recency",
                                              "frequency", "entity"}
    assert out["strategies"]["vector"]["status"] == "ok"
    for _ in range(100):  # the access is written after the reply
        again = client.get(f"/api/memories/{m['id']}").json()
        if again["access_count"]:
            break
        time.sleep(0.02)
    assert again["access_count"] == 1 and again["last_accessed_at"]
