"""Hostile JSON is refused at the door with a 4xx and nothing half-stored: metadata nested
deep, huge or with long keys; numbers Python will not parse; lone surrogates; bodies too
big even when they do not say their length."""
from __future__ import annotations

import json

import pytest

from memlane.errors import Invalid
from memlane.schemas import MemoryCreate

JSON = {"content-type": "application/json"}


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


def post_raw(client, path: str, body: str | bytes, headers=JSON):
    return client.post(path, content=body if isinstance(body, bytes) else body.encode(),
                       headers=headers)


def stored(client) -> int:
    return client.get("/api/memories").json()["total"]


@pytest.mark.parametrize("depth", [33, 500])
def test_deeply_nested_metadata_is_422_and_not_stored(client, depth):
    r = post_raw(client, "/api/memories", f'{{"text":"x","metadata":{nested(depth)}}}')
    assert r.status_code == 422, r.text
    assert stored(client) == 0
    assert client.get("/api/memories/export").status_code == 200


def test_metadata_within_bounds_is_kept(client):
    r = post_raw(client, "/api/memories", f'{{"text":"x","metadata":{nested(31)}}}')
    assert r.status_code == 201
    assert client.get(f"/api/memories/{r.json()['id']}").status_code == 200


def _deep_list(depth: int) -> list:
    value: list = [1]
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("metadata", [{"k" * 201: 1}, {"big": "x" * 70_000},
                                      {"list": _deep_list(32)}])
def test_long_keys_and_big_metadata_are_422(client, metadata):
    r = client.post("/api/memories", json={"text": "x", "metadata": metadata})
    assert r.status_code == 422, r.text
    assert stored(client) == 0


def test_nesting_past_the_parser_is_4xx(client):
    r = post_raw(client, "/api/memories", f'{{"text":"x","metadata":{nested(1100)}}}')
    assert 400 <= r.status_code < 500


def _unreadable() -> MemoryCreate:
    """Past the door's checks (as a bug or another door might let through)."""
    deep: dict = {}
    for _ in range(600):
        deep = {"a": deep}
    return MemoryCreate.model_construct(text="unreadable", metadata=deep, type="semantic",
                                        source="typed", occurred_at=None, importance=None,
                                        confidence=None, emotion=None, client_id=None)


def test_nothing_is_stored_that_cannot_be_read_back(client):
    engine = client.app.state.engine
    with pytest.raises(Invalid, match="read back"):
        client.portal.call(engine.memories.add, "local", _unreadable())
    batch = [MemoryCreate(text="fine one"), _unreadable(), MemoryCreate(text="fine two")]
    with pytest.raises(Invalid, match="read back"):
        client.portal.call(engine.memories.add_many, "local", batch)
    assert stored(client) == 0


@pytest.mark.parametrize("raw", ['{"a": ' + "9" * 5000 + "}", "[" * 1100 + "]" * 1100,
                                 nested(1100), '{"a": 1e999}', '{"k\\ud800": 1}'])
def test_metadata_query_parameters_that_cannot_be_read_are_4xx(client, raw):
    r = client.get("/api/memories", params={"metadata": raw})
    assert 400 <= r.status_code < 500, (raw[:20], r.status_code)


@pytest.mark.parametrize("line", ['{"text": "x", "metadata": ' + nested(1100) + "}",
                                  '{"text": "x", "n": ' + "9" * 5000 + "}",
                                  '{"text": "x", "metadata": {"n": ' + "9" * 5000 + "}}",
                                  '{"text": "x", "metadata": ' + nested(500) + "}"])
def test_import_lines_too_deep_or_with_huge_numbers_are_that_records_error(client, line):
    body = '{"text": "fine"}\n' + line + "\n"
    r = post_raw(client, "/api/memories/import", body, {"content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["errors"][0]["record"] == 1
    assert [m["text"] for m in client.get("/api/memories").json()["memories"]] == ["fine"]
    assert client.get("/api/memories/export").status_code == 200


@pytest.mark.parametrize("path,body", [
    ("/api/memories", '{"text": "x", "metadata": {"k\\ud800": 1}}'),
    ("/api/memories", '{"text": "hi \\udc00 there"}'),
    ("/api/memories", '{"text": "hi \\ud83d"}'),
    ("/api/search", '{"query": "tea \\ud800"}'),
    ("/v1/chat/completions", '{"model": "memlane", "messages": '
                             '[{"role": "user", "content": "hi \\ud800"}]}'),
    ("/v1/embeddings", '{"model": "memlane", "input": ["x \\ud800"]}'),
])
def test_lone_surrogates_are_400_on_every_json_door(client, path, body):
    r = post_raw(client, path, body)
    assert r.status_code == 400, r.text
    assert "surrogate" in json.dumps(r.json())
    assert ("error" in r.json()) == path.startswith("/v1")
    assert stored(client) == 0


def test_surrogates_encoded_as_bytes_are_400(client):
    r = post_raw(client, "/api/memories", b'{"text": "hi \xed\xa0\x80"}')
    assert r.status_code == 400


def test_pairs_and_escaped_backslashes_are_fine(client):
    for body, text in (('{"text": "smile \\ud83d\\ude00"}', "smile \U0001F600"),
                       ('{"text": "literal \\\\ud800"}', "literal \\ud800")):
        r = post_raw(client, "/api/memories", body)
        assert r.status_code == 201 and r.json()["text"] == text


def test_utf16_json_bodies_are_400(client):
    r = post_raw(client, "/api/memories", '{"text": "x \\ud800"}'.encode("utf-16-le"))
    assert r.status_code == 400


def test_a_chunked_upload_past_the_limit_is_413(make_client):
    client = make_client(max_body_bytes=1_000_000)

    def chunks():
        for _ in range(50):
            yield b"x" * 1_000_000
    r = client.post("/api/memories", content=chunks(), headers=JSON)
    assert r.status_code == 413 and "exceeds" in r.json()["detail"]
    r = client.post("/v1/chat/completions", content=chunks(), headers=JSON)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_a_metadata_filter_matches_a_bounded_number_of_keys(client):
    many = {f"k{i}": i for i in range(1000)}
    client.post("/api/memories", json={"text": "hello", "metadata": {"k1": 1}})
    r = client.post("/api/search", json={"query": "hello", "filters": {"metadata": many}})
    assert r.status_code == 422
    r = client.get("/api/memories", params={"metadata": json.dumps(
        {f"k{i}": i for i in range(40)})})
    assert r.status_code == 422
    r = client.get("/api/memories", params={"metadata": json.dumps({"k1": 1})})
    assert r.status_code == 200 and r.json()["total"] == 1
