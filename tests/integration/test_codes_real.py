"""Exact codes ("hunter2g", "x5km", "route66kg") are found by keyword with the real spaCy
tokenizer, which splits a number from a unit where the index does not."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
CODES = ["hunter2g", "x5km", "route66kg", "ab12cd"]


def test_keyword_search_finds_codes_as_typed(make_client):
    client = make_client(nlp="spacy")
    ids = {code: client.post("/api/memories", json={
        "text": f"The code for the shed is {code}."}).json()["id"] for code in CODES}
    client.post("/api/memories", json={"text": "The shed is painted green."})
    for code, memory_id in ids.items():
        got = client.post("/api/search", json={"query": code}).json()
        assert code in got["query"]["keywords"], got["query"]
        top = got["results"][0]
        assert top["memory"]["id"] == memory_id, (code, top)
        assert "keyword" in top["reasons"]["strategies"], (code, top["reasons"])
