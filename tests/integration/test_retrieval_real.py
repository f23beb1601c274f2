"""Retrieval on the real all-MiniLM-L6-v2 int8 embedder and the real spaCy model."""
import pytest

pytestmark = pytest.mark.integration

DISTRACTORS = [
    "I had pasta for dinner and it was too salty.",
    "The quarterly report is due on Friday.",
    "My bike needs a new chain before the race.",
    "We watched a documentary about deep sea fish.",
    "The printer on the third floor is jammed again.",
]


def _seed(client, texts, **fields):
    out = client.post("/api/memories/batch",
                      json={"memories": [{"text": t, **fields} for t in texts]})
    assert out.status_code == 201, out.text
    return out.json()["memories"]


def _search(client, query, **body):
    r = client.post("/api/search", json={"query": query, **body})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_semantic_search_finds_a_paraphrase(real_client):
    _seed(real_client, DISTRACTORS)
    target = _seed(real_client, ["She relocated to France."])[0]
    results = _search(real_client, "where did Alice move?", limit=3)
    assert results[0]["memory"]["id"] == target["id"]
    assert results[0]["reasons"]["strategies"] == ["vector"]
    assert results[0]["reasons"]["signals"]["vector"] > 0.3


def test_keyword_search_finds_an_exact_rare_token(real_client):
    _seed(real_client, DISTRACTORS + ["Server rack serial number is XK-99812-QZ."])
    results = _search(real_client, "XK-99812-QZ", limit=3)
    assert "XK-99812-QZ" in results[0]["memory"]["text"]
    assert "keyword" in results[0]["reasons"]["strategies"]


def test_entity_search_finds_memories_that_name_an_entity(real_client):
    seeded = _seed(real_client, DISTRACTORS + [
        "Priya Raman gave a talk at the Lisbon meetup.",
        "Dinner with Priya Raman and Tomasz was lovely."])
    priya = {m["id"] for m in seeded if "Priya" in m["text"]}
    assert all("Priya Raman" in m["entities"] for m in seeded if m["id"] in priya)
    results = _search(real_client, "What do I know about Priya Raman?", limit=5)
    graph_hits = {r["memory"]["id"] for r in results if "graph" in r["reasons"]["strategies"]}
    assert priya <= graph_hits
    listed = real_client.get("/api/memories", params={"entity": "priya raman"}).json()
    assert {m["id"] for m in listed["memories"]} == priya
    names = {e["name"]: e["memory_count"] for e in real_client.get("/api/entities").json()[
        "entities"]}
    assert names["Priya Raman"] == 2 and "Lisbon" in names


def _seed_classes(client):
    may = _seed(client, ["Went to a pottery class with Mel."], type="episodic",
                occurred_at="2023-05-20T14:00:00Z")[0]
    _seed(client, ["Went to a painting class with Mel."], type="episodic",
          occurred_at="2023-08-02T14:00:00Z")
    _seed(client, ["Went to a cooking class with Mel."], type="episodic",
          occurred_at="2022-05-11T09:00:00Z")
    return may


def test_time_words_lift_memories_in_range_by_default(real_client):
    may = _seed_classes(real_client)
    results = _search(real_client, "What class did I go to in May 2023?")
    assert results[0]["memory"]["id"] == may["id"]
    assert [r["reasons"]["signals"]["time"] for r in results] == [1.0, 0.0, 0.0]


def test_time_range_query_returns_only_memories_in_range(make_client, real_models, tmp_path):
    from memlane.config import load_settings
    from memlane.models import create
    settings = load_settings(data_dir=tmp_path / "f", time_mode="filter")
    engine = real_models.engine(settings, create("llm", "none", settings))
    client = make_client(engine=engine)
    may = _seed_classes(client)
    results = _search(client, "What class did I go to in May 2023?")
    assert [r["memory"]["id"] for r in results] == [may["id"]]
    explicit = _search(client, "class with Mel",
                       filters={"since": "2023-07-01T00:00:00Z", "until": "2023-09-01T00:00:00Z"})
    assert [r["memory"]["text"] for r in explicit] == ["Went to a painting class with Mel."]


def test_long_text_is_chunked_and_a_late_sentence_is_found(real_client):
    filler = " ".join(f"Paragraph {i} talks about gardening and tomatoes." for i in range(60))
    text = filler + " Finally, the spare house key is hidden under the blue flowerpot."
    memory = _seed(real_client, [text])[0]
    assert real_client.get(f"/api/memories/{memory['id']}").json()["text"] == text
    results = _search(real_client, "where is the spare key hidden?", limit=3)
    assert results[0]["memory"]["id"] == memory["id"]
