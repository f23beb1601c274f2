"""Memory integrity on fakes (issue 12): what is told is kept at once, questions are never
a source of facts, invented facts and values are refused or repaired, nothing is
overwritten in place, and unrelated notes are not neighbours."""
from datetime import datetime

import httpx
import pytest
from openai import OpenAI

from memlane.chat.events import ContextItem
from memlane.chat.grounding import checked, personal_question
from memlane.chat.prompts import DONT_KNOW
from memlane.memory.told import told, ungrounded
from support import run_jobs, sse_events

PASSPORT = "Remember that my passport number ends in 4471."
QUESTION = "What does my passport number end in?"


@pytest.fixture
def llm(client):
    return client.app.state.engine.llm


def turn(client, message, conversation_id=None):
    body = {"message": message, "conversation_id": conversation_id}
    r = client.post("/api/chat", json={k: v for k, v in body.items() if v is not None})
    assert r.status_code == 200, r.text
    events = sse_events(r.text)
    return events[0][1], events[-1][1]


def texts(client, **params) -> list[str]:
    return [m["text"] for m in client.get("/api/memories", params=params).json()["memories"]]


def test_told_in_one_conversation_is_found_by_the_next_at_once(make_client):
    client = make_client(jobs_enabled=False)  # nothing runs in the background
    first, done = turn(client, PASSPORT)
    assert texts(client) == ["My passport number ends in 4471."]
    assert done["remembered"] and client.get(
        f"/api/memories/{done['remembered'][0]}").json()["source"] == "chat"
    contexts, _ = turn(client, QUESTION)  # a new conversation
    assert contexts["conversation_id"] != first["conversation_id"]
    assert any("4471" in c["text"] for c in contexts["contexts"])


def test_a_question_is_not_stored_and_unknown_personal_facts_are_not_invented(client, llm):
    llm.enqueue("Your passport number ends in 0000.")  # what a small model may say
    _, done = turn(client, QUESTION)
    assert done["answer"] == DONT_KNOW and done["remembered"] == []
    assert not [c for c in llm.calls if c["json_schema"] is None], "no LLM call was needed"
    run_jobs(client)
    assert texts(client) == []


def test_extraction_refuses_a_fact_with_words_the_user_never_said(client, llm):
    llm.enqueue("Noted.", {"facts": ["My passport number ends in '0'.",
                                     "My favourite colour is blue.",
                                     "My passport number ends in 4471."]})
    turn(client, "My passport number ends in 4471.")
    run_jobs(client)
    stored = texts(client)
    assert not any("'0'" in t or "blue" in t for t in stored)
    assert "My passport number ends in 4471." in stored
    jobs = client.portal.call(client.app.state.engine.store.list_jobs)
    refused = [d for j in jobs for d in (j.result or {}).get("decisions", [])
               if d["event"] == "REFUSED"]
    assert len(refused) == 2


def test_an_extraction_update_supersedes_and_can_be_restored(client, llm):
    old = client.post("/api/memories", json={"text": "My passport number ends in 4471."})
    old = old.json()
    merged = "My passport number ends in 4471 and expires in 2030."
    llm.enqueue("Noted.", {"facts": [merged]},
                {"event": "UPDATE", "target": 1, "text": merged})
    turn(client, "My passport number ends in 4471 and it expires in 2030.")
    run_jobs(client)
    kept = client.get(f"/api/memories/{old['id']}").json()
    assert kept["text"] == old["text"] and kept["valid_until"] is not None
    new_id = kept["metadata"]["superseded_by"]
    assert client.get(f"/api/memories/{new_id}").json()["text"] == merged
    assert old["text"] not in texts(client)
    assert old["text"] in texts(client, include_superseded="true")
    events = [h["event"] for h in client.get(f"/api/memories/{old['id']}/history").json()]
    assert events == ["ADD", "SUPERSEDE"]
    r = client.post(f"/api/memories/{old['id']}/restore")
    assert r.status_code == 200 and r.json()["valid_until"] is None
    assert client.get(f"/api/memories/{new_id}").json()["valid_until"] is not None
    assert old["text"] in texts(client) and merged not in texts(client)
    assert client.post(f"/api/memories/{old['id']}/restore").status_code == 409
    assert client.post(f"/api/memories/{'0' * 32}/restore").status_code == 404


def test_an_invented_merge_is_not_stored(client, llm):
    client.post("/api/memories", json={"text": "I live in Paris."})
    llm.enqueue("Noted.", {"facts": ["I moved to Berlin."]},
                {"event": "UPDATE", "target": 1, "text": "I moved from Paris to Munich."})
    turn(client, "I moved to Berlin.")
    run_jobs(client)
    assert not any("Munich" in t for t in texts(client, include_superseded="true"))


def test_a_citation_marker_standing_for_the_value_is_repaired(client, llm):
    client.post("/api/memories", json={"text": "My passport number ends in 4471."})
    llm.enqueue("Your passport number ends in [1].")
    _, done = turn(client, QUESTION)
    assert "4471" in done["answer"] and "[1]." not in done["answer"].replace("4471", "")
    assert done["citations"]


def test_an_invented_value_is_repaired_and_an_unmatched_one_refused(client, llm):
    client.post("/api/memories", json={"text": "My passport number ends in 4471."})
    llm.enqueue("It ends in 9912 [1].")
    _, done = turn(client, QUESTION)
    assert "4471" in done["answer"] and "9912" not in done["answer"]
    llm.enqueue("Your blood type is AB [1].")
    _, done = turn(client, "What is my passport blood type?")
    assert "AB" not in done["answer"]


def test_openai_door_keeps_what_is_told_and_does_not_invent(live_app):
    app, url = live_app
    api = OpenAI(base_url=f"{url}/v1", api_key="unused")
    app.state.engine.llm.enqueue("Your passport ends in 1234.")
    reply = api.chat.completions.create(model="memlane", messages=[
        {"role": "user", "content": QUESTION}])
    assert reply.choices[0].message.content == DONT_KNOW
    api.chat.completions.create(model="memlane", messages=[
        {"role": "user", "content": PASSPORT}])
    with httpx.Client(base_url=url) as rest:
        stored = rest.get("/api/memories").json()["memories"]
        assert [(m["text"], m["source"]) for m in stored] == [
            ("My passport number ends in 4471.", "chat")]
        r = rest.post("/api/chat", json={"message": QUESTION, "stream": False})
    assert any("4471" in c["text"] for c in r.json()["contexts"])


@pytest.fixture
def live_app(fake_settings):
    """The app on fakes, served by a real uvicorn for the official openai client."""
    from memlane.api.app import create_app
    from support import free_port, uvicorn_thread
    app = create_app(fake_settings.model_copy(update={"jobs_enabled": False}))
    with uvicorn_thread(app, free_port()) as url:
        yield app, url


def test_independent_typed_notes_are_not_neighbours(client):
    for text in ("I parked the car on level 3.", "Dentist appointment on Tuesday at 10.",
                 "My daughter is allergic to peanuts."):
        client.post("/api/memories", json={"text": text})
    results = client.post("/api/search", json={"query": "where is my car parked"}).json()
    assert all(r["reasons"].get("neighbour_of_score", 0) == 0 for r in results["results"])
    assert next(r["memory"]["text"] for r in results["results"]).startswith("I parked")


# the rules themselves, on a table: how often an invented fact would be accepted
SOURCE = "My passport number ends in 4471 and my sister Anna lives in Lyon."
INVENTED = ["My passport number ends in '0'.", "My passport number ends in 4472.",
            "My sister Anna lives in Paris.", "My sister Maria lives in Lyon.",
            "My favourite colour is blue.", "My passport expires in 2030.",
            "My brother lives in Lyon.", "My passport code is X9-22."]
FAITHFUL = ["My passport number ends in 4471.", "My sister Anna lives in Lyon.",
            "Anna is my sister.", "My passport ends with 4471."]


def test_false_acceptance_of_invented_facts_is_zero_on_the_table():
    accepted = [f for f in INVENTED if not ungrounded(f, [SOURCE])]
    assert accepted == []
    assert [f for f in FAITHFUL if ungrounded(f, [SOURCE])] == []


@pytest.mark.parametrize("message, kept", [
    (PASSPORT, "My passport number ends in 4471."),
    (QUESTION, ""),
    ("Thanks, that's great!", ""),
    ("Can you remember that my locker code is 5521?", "My locker code is 5521."),
    ("I moved to Berlin last month. Where do I live now?", "I moved to Berlin last month."),
    ("Note for later: the car is on level 3", "The car is on level 3"),
    ("Our teacher is Mrs. Okafor. Who is yours?", "Our teacher is Mrs. Okafor."),
    ("It weighs 3.5 kg.", "It weighs 3.5 kg."),
    ("Remember that walk by the lake with Tom?", ""),
    ("I'm moving to Berlin next month, so what should I pack?",
     "I'm moving to Berlin next month"),
])
def test_what_a_message_tells(message, kept):
    assert told(message) == kept


@pytest.mark.parametrize("question, personal", [
    (QUESTION, True), ("Where do I live?", True), ("Do I have a dog?", True),
    ("What should I cook tonight?", False), ("What is the capital of France?", False),
    ("I like tea.", False), ("How do I reset my router?", False),
    ("Tell me my passport number.", True), ("My passport number?", True),
    ("Where's my car?", True),
])
def test_personal_questions(question, personal):
    assert personal_question(question) is personal


def test_checked_keeps_a_grounded_reply_and_refuses_without_a_match():
    items = [ContextItem(1, "m1", "My passport number ends in 4471.", 0.9)]
    assert checked("It ends in 4471 [1].", QUESTION, items) == "It ends in 4471 [1]."
    assert checked("Sure! It ends in 4471 [1].", QUESTION, items).startswith("Sure!")
    assert "4471" in checked("As an AI language model, I don't have access.", QUESTION, items)
    assert checked("Your blood type is O [1].", "What is my blood type?", items) == DONT_KNOW


def test_words_of_any_script_and_their_forms_ground_a_fact():
    told_it = "My sister Ingrid lives in Tromsø."
    assert ungrounded(told_it, [told_it]) == []
    assert ungrounded("My sister lives in Tromsø.", ["My sister lives in Tromsdal."]) == ["tromsø"]


def test_a_marker_in_place_of_the_value_falls_back_to_the_cited_memory():
    items = [ContextItem(1, "old", "My gym locker is number 12.", 0.9, when=datetime(2026, 1, 1)),
             ContextItem(2, "new", "The gym gave me a new locker, number 47.", 0.8,
                         when=datetime(2026, 1, 2))]
    question = "What is my gym locker number now?"
    assert "47" in checked("Your gym locker number is [2].", question, items)
    assert "47" in checked("I'm not sure.", question, items), "the latest of equal matches"
    assert "Tromsø" in checked("Your sister lives in Oslo [1].", "Where does my sister live?",
                               [ContextItem(1, "m", "My sister lives in Tromsø.", 0.7)])
