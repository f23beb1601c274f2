"""Property: whatever two users do, in any order, no response to one of them contains the
other's memory text or id (REST, on fakes), beyond an id the caller itself sent (a 404 may
name the id it was asked for: that tells nothing new)."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import add_user

WORDS = ["garden", "passport", "sister", "boat", "code", "Paris", "June", "piano"]
USERS = ("alice", "bob")
OPS = ("add", "search", "list", "get", "patch", "delete", "history", "export", "entities",
       "ask", "emotions", "chat")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server for every example; state piles up across examples, as in real use."""
    from fastapi.testclient import TestClient

    from memlane.api.app import create_app
    from memlane.config import load_settings
    settings = load_settings(data_dir=tmp_path_factory.mktemp("prop"), embedder="hash",
                             nlp="regex", llm="scripted", stt="tone", vad="energy",
                             tts="tone", auth_enabled=True, rate_limit_per_minute=0,
                             extraction_enabled=False)
    with TestClient(create_app(settings)) as client:
        headers = {name: add_user(client, name) for name in USERS}
        yield {"client": client, "headers": headers, "texts": {u: set() for u in USERS},
               "ids": {u: set() for u in USERS}, "serial": itertools.count()}


step = st.tuples(st.sampled_from(USERS), st.sampled_from(OPS), st.sampled_from(WORDS),
                 st.integers(min_value=0, max_value=50))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_no_response_leaks_the_other_users_memories(world, steps):
    for user, op, word, pick in steps:
        other = USERS[1 - USERS.index(user)]
        body, asked = _do(world, user, op, word, pick)
        for secret in (world["texts"][other] | world["ids"][other]) - {asked}:
            assert secret not in body, f"{op} by {user} returned {other}'s {secret!r}"


def _do(world, user, op, word, pick) -> str:
    client, headers = world["client"], world["headers"][user]
    every_id = sorted(world["ids"]["alice"] | world["ids"]["bob"])
    target = every_id[pick % len(every_id)] if every_id else "none"
    if op == "add":
        text = f"{user} secret {next(world['serial'])} about the {word}"
        r = client.post("/api/memories", json={"text": text}, headers=headers)
        assert r.status_code == 201
        world["texts"][user].add(text)
        world["ids"][user].add(r.json()["id"])
        return r.text, None
    requests = {
        "search": lambda: client.post("/api/search", json={"query": f"secret {word}"},
                                      headers=headers),
        "list": lambda: client.get("/api/memories", headers=headers),
        "get": lambda: client.get(f"/api/memories/{target}", headers=headers),
        "patch": lambda: client.patch(f"/api/memories/{target}", json={"importance": 0.9},
                                      headers=headers),
        "delete": lambda: client.delete(f"/api/memories/{target}", headers=headers),
        "history": lambda: client.get(f"/api/memories/{target}/history", headers=headers),
        "export": lambda: client.get("/api/memories/export", headers=headers),
        "entities": lambda: client.get("/api/entities", headers=headers),
        "ask": lambda: client.post("/api/ask", json={"question": f"What about the {word}?",
                                                     "stream": False}, headers=headers),
        "emotions": lambda: client.get("/api/emotions", headers=headers),
        "chat": lambda: client.post("/api/chat", json={"message": f"the {word} secret",
                                                       "stream": False}, headers=headers),
    }
    r = requests[op]()
    assert r.status_code < 500, r.text
    mine = target in world["ids"][user]
    if op in ("get", "patch", "delete", "history") and target != "none":
        assert r.status_code < 300 if mine else r.status_code == 404, r.text
        if op == "delete" and r.status_code == 204:
            world["ids"][user].discard(target)
    return r.text, target if op in ("get", "patch", "delete", "history") else None
