"""Bad input: clear errors, right status, the server keeps running, nothing is lost."""


def test_validation_422_names_the_field(client):
    r = client.post("/api/memories", json={"text": "x", "importance": 7})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "importance"]
    assert client.post("/api/memories", json={"text": 5}).status_code == 422
    assert client.post("/api/memories", json={"txt": "typo"}).status_code == 422
    assert client.post("/api/search", json={"query": ""}).status_code == 422
    assert client.post("/api/memories", json={"text": "   "}).status_code == 422


def test_malformed_json_is_400(client):
    r = client.post("/api/memories", content=b"{\"text\": ", headers={
        "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["detail"]


def test_oversized_body_and_text_are_413(make_client):
    client = make_client(max_body_bytes=10_000, max_text_chars=1_000)
    assert client.post("/api/memories", json={"text": "x" * 20_000}).status_code == 413
    r = client.post("/api/memories", json={"text": "y " * 1_000})
    assert r.status_code == 413 and r.json()["param"] == "text"
    r = client.post("/api/memories", json={"text": "still alive"})
    assert r.status_code == 201


def test_batch_too_large_is_413(make_client):
    client = make_client(max_batch=3)
    r = client.post("/api/memories/batch", json={"memories": [{"text": f"m{i}"}
                                                             for i in range(4)]})
    assert r.status_code == 413


def test_bad_query_params(client):
    assert client.get("/api/memories", params={"limit": 0}).status_code == 422
    assert client.get("/api/memories", params={"type": "weird"}).status_code == 422
    assert client.get("/api/memories", params={"metadata": "[1]"}).status_code == 400
    assert client.get("/api/memories", params={"since": "yesterday-ish"}).status_code == 422


def test_unknown_route_is_404_and_nothing_leaks(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and "Traceback" not in r.text
