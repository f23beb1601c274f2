"""POST /api/ask: contexts, streamed tokens, a done event with citations; don't-know when
nothing relevant is stored; scoped to the caller."""
import pytest

from support import add_user, sse_events

BIRTHDAY = "My sister's birthday is June 14th and she loves orchids"


@pytest.fixture
def llm(client):
    return client.app.state.engine.llm


def test_ask_streams_contexts_tokens_and_cited_done(client, llm):
    memory = client.post("/api/memories", json={"text": BIRTHDAY}).json()
    client.post("/api/memories", json={"text": "I parked the car on level 3"})
    llm.enqueue("Your sister's birthday is June 14th [1].")
    r = client.post("/api/ask", json={"question": "When is my sister's birthday?"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [n for n, _ in events]
    assert names[0] == "contexts" and names[-1] == "done" and names.count("token") >= 3
    contexts = events[0][1]["contexts"]
    assert memory["id"] in [c["memory_id"] for c in contexts]
    ref = next(c["ref"] for c in contexts if c["memory_id"] == memory["id"])
    assert "".join(d["text"] for n, d in events if n == "token").strip().startswith("Your")
    done = events[-1][1]
    assert done["known"] and done["citations"] == [memory["id"]] and ref == 1
    assert done["usage"]["completion_tokens"] > 0 and done["usage"]["prompt_tokens"] > 0
    assert {"retrieval", "context", "first_token", "generation", "total"} <= set(
        done["timings_ms"])
    system, question = llm.calls[-1]["messages"]
    assert BIRTHDAY in system["content"] and "When is my sister's birthday?" in question[
        "content"]


def test_nothing_relevant_is_a_dont_know_without_the_llm(client, llm):
    client.post("/api/memories", json={"text": BIRTHDAY})
    r = client.post("/api/ask", json={"question": "Which mountain did Edmund climb in 1953?",
                                      "stream": False})
    out = r.json()
    assert r.status_code == 200 and out["known"] is False and out["citations"] == []
    assert "don't know" in out["answer"] and out["contexts"] == []
    assert llm.calls == []


def test_uncited_answer_cites_the_memory_it_repeats(client, llm):
    memory = client.post("/api/memories", json={"text": BIRTHDAY}).json()
    llm.enqueue("She loves orchids, and her birthday is June 14th.")
    out = client.post("/api/ask", json={"question": "What does my sister love?",
                                        "stream": False}).json()
    assert out["citations"] == [memory["id"]]


def test_ask_never_grounds_on_another_users_memory(make_client):
    client = make_client(auth_enabled=True)
    alice, bob = add_user(client, "alice"), add_user(client, "bob")
    client.post("/api/memories", json={"text": BIRTHDAY}, headers=alice)
    out = client.post("/api/ask", json={"question": "When is my sister's birthday?",
                                        "stream": False}, headers=bob).json()
    assert out["contexts"] == [] and out["known"] is False
    assert client.post("/api/ask", json={"question": "x"}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"question": ""}, {"question": "x", "limit": 0},
                                  {"question": "x", "max_tokens": "many"},
                                  {"question": "x", "bogus": 1}])
def test_bad_ask_bodies_are_422(client, body):
    assert client.post("/api/ask", json=body).status_code == 422
