"""Conversations and chat turns on fakes: sessions API, the turn pipeline, working memory,
extraction (ADD, supersede), summaries, personas and agents."""
import pytest

from support import add_user, run_jobs, sse_events

BIRTHDAY = "My sister's birthday is June 14th."


@pytest.fixture
def llm(client):
    return client.app.state.engine.llm


def turn(client, message, conversation_id=None, **extra):
    body = {"message": message, "conversation_id": conversation_id, **extra}
    r = client.post("/api/chat", json={k: v for k, v in body.items() if v is not None})
    assert r.status_code == 200, r.text
    events = sse_events(r.text)
    assert events[0][0] == "contexts" and events[-1][0] == "done", events
    return events[0][1], events[-1][1]


def test_sessions_api_create_list_history_delete(client):
    c = client.post("/api/conversations", json={"title": "plans"})
    assert c.status_code == 201 and c.json()["active"] is True
    cid = c.json()["id"]
    listed = client.get("/api/conversations").json()
    assert listed["total"] == 1 and listed["conversations"][0]["id"] == cid
    turn(client, "Hello there", cid)
    history = client.get(f"/api/conversations/{cid}").json()
    assert [(m["seq"], m["role"]) for m in history["messages"]] == [(1, "user"),
                                                                   (2, "assistant")]
    assert history["messages"][1]["content"] == "You said: Hello there"
    assert client.delete(f"/api/conversations/{cid}").status_code == 204
    assert client.get(f"/api/conversations/{cid}").status_code == 404
    assert client.delete(f"/api/conversations/{cid}").status_code == 404


def test_chat_without_id_starts_a_conversation_and_remembers_the_last_turns(client, llm):
    first, done = turn(client, "My dog is called Biscuit")
    cid = first["conversation_id"]
    assert done["conversation_id"] == cid and done["message_id"]
    assert "first_token" in done["timings_ms"] and "enqueue" in done["timings_ms"]
    turn(client, "What did I say?", cid)
    sent = llm.calls[-1]["messages"] if llm.calls[-1]["json_schema"] is None else next(
        c["messages"] for c in reversed(llm.calls) if c["json_schema"] is None)
    roles = [m["role"] for m in sent]
    assert roles == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "My dog is called Biscuit"


def test_unknown_or_foreign_conversation_is_404_before_streaming(make_client):
    client = make_client(auth_enabled=True)
    alice, bob = add_user(client, "alice"), add_user(client, "bob")
    cid = client.post("/api/conversations", json={}, headers=alice).json()["id"]
    for headers in (bob,):
        assert client.post("/api/chat", json={"message": "hi", "conversation_id": cid},
                           headers=headers).status_code == 404
        assert client.get(f"/api/conversations/{cid}", headers=headers).status_code == 404
        assert client.get("/api/conversations", headers=headers).json()["total"] == 0
    assert client.post("/api/chat", json={"message": "hi", "conversation_id": "0" * 32},
                       headers=alice).status_code == 404


def test_extraction_adds_a_fact_and_a_contradiction_supersedes_it(client, llm):
    llm.enqueue("Noted!", {"facts": [BIRTHDAY]})
    first, _ = turn(client, "By the way, my sister's birthday is June 14th")
    run_jobs(client)
    found = client.get("/api/memories").json()["memories"]
    assert [(m["text"], m["source"]) for m in found] == [(BIRTHDAY, "extraction")], \
        "the message kept at once gives way to the fact drawn from it"
    old = found[0]
    assert old["metadata"]["conversation_id"] == first["conversation_id"]
    moved = "My sister's birthday is in July now."
    llm.enqueue("Oh, okay.", {"facts": [moved]},
                {"event": "DELETE", "target": 1, "text": moved})
    turn(client, "Actually my sister's birthday moved to July", first["conversation_id"])
    run_jobs(client)
    current = client.get("/api/memories").json()["memories"]
    assert moved in [m["text"] for m in current] and BIRTHDAY not in str(current)
    kept = client.get(f"/api/memories/{old['id']}").json()
    assert kept["text"] == BIRTHDAY and kept["valid_until"] is not None
    successor = client.get(f"/api/memories/{kept['metadata']['superseded_by']}").json()
    assert successor["text"] == moved
    events = [h["event"] for h in client.get(f"/api/memories/{old['id']}/history").json()]
    assert events == ["ADD", "SUPERSEDE"]
    results = client.post("/api/search", json={"query": "sister birthday"}).json()["results"]
    assert successor["id"] in [r["memory"]["id"] for r in results]
    assert old["id"] not in [r["memory"]["id"] for r in results]


def test_extraction_can_be_switched_off(make_client):
    client = make_client(extraction_enabled=False)
    turn(client, "My sister's birthday is June 14th")
    run_jobs(client)
    found = client.get("/api/memories").json()["memories"]
    assert [(m["text"], m["source"]) for m in found] == [
        ("My sister's birthday is June 14th", "chat")], "kept as said, nothing extracted"


def test_the_same_fact_twice_is_stored_once(client, llm):
    llm.enqueue("Noted!", {"facts": [BIRTHDAY]}, "Yes.", {"facts": [BIRTHDAY]})
    first, _ = turn(client, "my sister's birthday is June 14th")
    turn(client, "as I said, my sister's birthday is June 14th", first["conversation_id"])
    run_jobs(client)
    assert client.get("/api/memories").json()["total"] == 1


def test_older_messages_are_summarised_and_the_summary_replaces_cut_history(make_client):
    client = make_client(summarise_every=4, working_memory=2, extraction_enabled=False)
    llm = client.app.state.engine.llm
    first, _ = turn(client, "I decided to quit my job; I feel relieved")
    cid = first["conversation_id"]
    llm.enqueue("Good for you.", "The user quit their job and felt relieved.")
    turn(client, "I start painting classes on Monday", cid)
    run_jobs(client)
    turn(client, "What did I decide?", cid)
    system = llm.calls[-1]["messages"][0]["content"]
    assert "The user quit their job and felt relieved." in system
    assert len(llm.calls[-1]["messages"]) == 4  # system, the last 2 messages, this one


def test_persona_and_agent_from_yaml(make_client, tmp_path):
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  pirate:\n    system_prompt: You are a pirate who remembers."
                      "\n    persona: Captain Flint sails the Caribbean with a parrot.\n"
                      "    max_tokens: 3\n")
    client = make_client(agents_file=agents, extraction_enabled=False)
    llm = client.app.state.engine.llm
    c = client.post("/api/conversations", json={"agent": "pirate"}).json()
    assert c["persona"].startswith("Captain Flint")
    _, done = turn(client, "one two three four five six", c["id"])
    system = llm.calls[-1]["messages"][0]["content"]
    assert system.startswith("You are a pirate who remembers.") and "Captain Flint" in system
    assert done["finish_reason"] == "length" and llm.calls[-1]["max_tokens"] == 3
    r = client.post("/api/conversations", json={"agent": "nobody"})
    assert r.status_code == 422 and "pirate" in r.json()["detail"]


def test_a_long_persona_contributes_its_relevant_parts(make_client):
    client = make_client(llm_context=512, extraction_enabled=False)
    llm = client.app.state.engine.llm
    filler = " ".join(f"Detail {i} about ships and ropes and tides." for i in range(60))
    persona = f"Maya is a retired astronomer. {filler} Maya's favourite comet is Hale-Bopp."
    c = client.post("/api/conversations", json={"persona": persona}).json()
    turn(client, "Which comet is your favourite comet?", c["id"])
    system = llm.calls[-1]["messages"][0]["content"]
    assert "retired astronomer" in system and "Hale-Bopp" in system
    assert len(system) < len(persona)


def test_a_long_ingested_text_is_sent_to_extraction(make_client):
    client = make_client(extract_min_chars=100)
    llm = client.app.state.engine.llm
    llm.enqueue({"facts": ["My favourite tea is oolong."]})
    client.post("/api/memories", json={"text": "Notes. " * 20 + "I love oolong tea."})
    run_jobs(client)
    texts = [m["text"] for m in client.get("/api/memories").json()["memories"]]
    assert "My favourite tea is oolong." in texts


def test_an_idle_session_expires_but_keeps_its_messages(make_client):
    client = make_client(extraction_enabled=False)
    first, _ = turn(client, "Remember the blue door")
    cid = first["conversation_id"]
    assert client.get("/api/health").json()["active_sessions"] == 1
    assert client.get(f"/api/conversations/{cid}").json()["conversation"]["active"]
    client.app.state.engine.settings.session_idle_s = 0.0  # an hour later
    assert client.get("/api/health").json()["active_sessions"] == 0
    history = client.get(f"/api/conversations/{cid}").json()
    assert history["conversation"]["active"] is False and len(history["messages"]) == 2
    turn(client, "And the red one", cid)  # a new message revives it from the store
    llm = client.app.state.engine.llm
    assert [m["role"] for m in llm.calls[-1]["messages"]] == ["system", "user", "assistant",
                                                              "user"]
