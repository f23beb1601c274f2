"""Answers and chat on the real packaged models: MiniLM, spaCy and the local Qwen2.5 1.5B."""
import pytest

from support import run_jobs, sse_events

pytestmark = pytest.mark.integration
BIRTHDAY = "My sister's birthday is June 14th and she loves orchids"


def test_ask_streams_a_cited_answer(real_client):
    memory = real_client.post("/api/memories", json={"text": BIRTHDAY}).json()
    real_client.post("/api/memories", json={"text": "I parked the car on level 3 today"})
    r = real_client.post("/api/ask", json={"question": "When is my sister's birthday?",
                                           "max_tokens": 40})
    events = sse_events(r.text)
    assert events[0][0] == "contexts" and events[-1][0] == "done"
    assert sum(1 for name, _ in events if name == "token") > 3, "the answer is streamed"
    done = events[-1][1]
    answer = done["answer"].lower()
    assert "june" in answer and "14" in answer, done["answer"]
    assert memory["id"] in done["citations"] and done["known"]
    assert done["timings_ms"]["first_token"] > 0 and done["usage"]["completion_tokens"] > 0


def test_something_never_stored_gets_dont_know(real_client):
    real_client.post("/api/memories", json={"text": BIRTHDAY})
    out = real_client.post("/api/ask", json={"question": "What is my passport number?",
                                             "stream": False, "max_tokens": 30}).json()
    assert out["known"] is False and "don't know" in out["answer"].lower(), out
    assert out["citations"] == []


def test_chat_fact_is_extracted_then_superseded_with_history_kept(real_learning_client):
    first = sse_events(real_learning_client.post("/api/chat", json={
        "message": "My sister's birthday is on June 14th.", "max_tokens": 24}).text)
    cid = first[0][1]["conversation_id"]
    run_jobs(real_learning_client)
    stored = real_learning_client.get("/api/memories").json()["memories"]
    old = [m for m in stored if "june" in m["text"].lower() and "birthday" in m["text"].lower()]
    assert len(old) == 1 and old[0]["source"] in ("chat", "extraction"), stored
    sse_events(real_learning_client.post("/api/chat", json={
        "message": "Correction: my sister's birthday is actually on July 2nd, not in June.",
        "conversation_id": cid, "max_tokens": 24}).text)
    run_jobs(real_learning_client)
    current = real_learning_client.get("/api/memories").json()["memories"]
    texts = " ".join(m["text"].lower() for m in current)
    assert "july" in texts, current
    assert not any("june 14" in m["text"].lower() for m in current), current
    previous = real_learning_client.get(f"/api/memories/{old[0]['id']}/history").json()
    kept = real_learning_client.get(f"/api/memories/{old[0]['id']}")
    assert (kept.status_code == 200 and kept.json()["valid_until"]) or any(
        "june" in (h["old_text"] or "").lower() for h in previous), previous
