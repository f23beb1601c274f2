"""Bad input: clear errors, right status, the server keeps running, nothing is lost."""

import json


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


def test_offsets_past_the_stores_integers_are_422(client):
    """They reached SQLite, which cannot bind them: a 500 (found by the schema fuzz)."""
    for path in ("/api/memories", "/api/conversations", "/api/entities"):
        r = client.get(path, params={"offset": 2**64})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "offset"]
        assert client.get(path, params={"offset": 2**63 - 1}).status_code == 200


def test_search_limit_is_bounded(client):
    assert client.post("/api/search", json={"query": "x", "limit": 10**20}).status_code == 422


def test_metadata_the_store_cannot_hold_is_422_and_search_keeps_working(client):
    """Python's JSON parser takes NaN, Infinity and huge integers; stored, they made later
    searches silently drop a retrieval strategy."""
    kept = client.post("/api/memories", json={"text": "Rowing on Sunday",
                                              "metadata": {"place": "lake"}}).json()
    for bad in ('{"a": NaN}', '{"a": [1, Infinity]}', '{"a": {"b": -Infinity}}',
                '{"a": 99999999999999999999}'):
        body = '{"text": "odd", "metadata": ' + bad + '}'
        r = client.post("/api/memories", content=body,
                        headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body",
                                                                         "metadata"], bad
        r = client.post("/api/search", content='{"query": "rowing", "filters": {"metadata": '
                        + bad + '}}', headers={"content-type": "application/json"})
        assert r.status_code == 422, bad
    found = client.post("/api/search", json={"query": "rowing Sunday"}).json()
    assert [r["memory"]["id"] for r in found["results"]] == [kept["id"]]
    assert all(s["status"] == "ok" for s in found["strategies"].values())


def test_a_date_out_of_range_in_utc_is_422_not_500(client):
    """0001-01-01 at +01:00 is year 0 in UTC: it was stored, then could not be read back."""
    early, late = "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"
    for when in (early, late):
        r = client.post("/api/memories", json={"text": "long ago", "occurred_at": when})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "occurred_at"]
    memory = client.post("/api/memories", json={"text": "now"}).json()
    r = client.patch(f"/api/memories/{memory['id']}", json={"occurred_at": early})
    assert r.status_code == 422
    r = client.post("/api/memories/import", content=json.dumps({"text": "b", "occurred_at":
                                                                early}) + "\n")
    assert r.status_code == 200 and r.json()["errors"][0]["error"].startswith("occurred_at")
    assert client.get("/api/memories").json()["total"] == 1


def test_every_operation_documents_its_errors_in_its_doors_shape(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            if not path.startswith("/api/health"):
                assert responses["429"]["headers"]["Retry-After"]["required"], where
            if path.startswith("/api/health") or path == "/metrics":
                continue
            for status in ("400", "401", "403", "404", "409", "503"):
                schema = responses[status]["content"]["application/json"]["schema"]
                shape = "OpenAIError" if path.startswith("/v1/") else "Problem"
                assert schema == {"$ref": f"#/components/schemas/{shape}"}, where
            if "requestBody" in operation:
                assert {"413", "422"} <= responses.keys(), where


def test_streams_and_replays_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/ask", "/api/chat", "/v1/chat/completions"):
        content = paths[path]["post"]["responses"]["200"]["content"]
        assert {"application/json", "text/event-stream"} <= content.keys()
        assert content["text/event-stream"]["itemSchema"]
    assert "200" in paths["/api/memories"]["post"]["responses"]  # an idempotent replay
    export = paths["/api/memories/export"]["get"]["responses"]["200"]["content"]
    assert "application/x-ndjson" in export
