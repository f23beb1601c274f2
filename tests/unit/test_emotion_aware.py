"""Emotion in answers and retrieval (SPEC D), on fakes: the fixed emotion classifier reads
every message as the label a test sets."""
import pytest

from support import sse_events


@pytest.fixture
def client(make_client):
    return make_client(emotion="fixed")


def feel(client, label: str, confidence: float = 0.9) -> None:
    classifier = client.app.state.engine.emotions.classifier
    classifier.label, classifier.confidence = label, confidence


def chat(client, message: str, conversation_id: str | None = None) -> tuple[dict, dict]:
    body = {"message": message, **({"conversation_id": conversation_id}
                                   if conversation_id else {})}
    events = sse_events(client.post("/api/chat", json=body).text)
    return events[0][1], events[-1][1]


def system_prompt(client) -> str:
    calls = [c for c in client.app.state.engine.llm.calls if c["json_schema"] is None]
    return calls[-1]["messages"][0]["content"]


def test_a_clear_emotion_adds_a_section_with_earlier_moments_of_it(client):
    feel(client, "sadness")
    chat(client, "My grandmother passed away last winter and I still miss her every day.")
    contexts, _ = chat(client, "I feel low again today.")
    prompt = system_prompt(client)
    assert "Emotional context: the user's message expresses sadness" in prompt
    assert "My grandmother passed away last winter" in prompt
    assert "I feel low again today" not in prompt.split("Emotional context")[1]
    assert contexts["emotion"]["label"] == "sadness"


def test_neutral_or_unsure_readings_add_nothing(client):
    feel(client, "neutral")
    chat(client, "The bus comes at nine.")
    assert "Emotional context" not in system_prompt(client)
    feel(client, "anger", confidence=0.4)  # below emotion_prompt_confidence
    chat(client, "The bus was late.")
    assert "Emotional context" not in system_prompt(client)


def test_messages_store_emotion_and_importance_and_the_timeline_shows_them(client):
    feel(client, "joy")
    contexts, _ = chat(client, "I got the job, I am so happy!")
    feel(client, "neutral")
    chat(client, "ok", contexts["conversation_id"])
    history = client.get(f"/api/conversations/{contexts['conversation_id']}").json()
    said = [m for m in history["messages"] if m["role"] == "user"]
    assert [m["emotion"] for m in said] == ["joy", "neutral"]
    assert said[0]["importance"] > said[1]["importance"]
    points = client.get("/api/emotions").json()["points"]
    assert [(p["emotion"], p["confidence"]) for p in points] == [("joy", 0.9), ("neutral", 0.9)]


def remember(client, text: str, emotion: str, importance: float) -> str:
    r = client.post("/api/memories", json={"text": text, "emotion": emotion,
                                           "importance": importance})
    assert r.status_code == 201
    return r.json()["id"]


def test_retrieval_boosts_memories_whose_emotion_matches(make_client):
    client = make_client(emotion="fixed", record_access=False)
    happy = remember(client, "We walked by the lake with Tom on Sunday.", "joy", 0.9)
    sad = remember(client, "We walked by the lake with Tom on Monday.", "sadness", 0.9)

    def ranked(emotion=None):
        body = {"query": "walk by the lake with Tom", **({"emotion": emotion} if emotion else {})}
        return client.post("/api/search", json=body).json()["results"]

    assert ranked("joy")[0]["memory"]["id"] == happy
    assert ranked("sadness")[0]["memory"]["id"] == sad
    top = ranked("joy")[0]
    assert top["reasons"]["emotion_boost"] == pytest.approx(1 + 0.9 * 0.3)
    plain = {r["memory"]["id"]: r["score"] for r in ranked()}
    assert top["score"] == pytest.approx(plain[happy] * 1.27, rel=1e-3)
    assert client.post("/api/search", json={"query": "lake", "emotion": "glee"}
                       ).status_code == 422


def test_a_chat_turn_boosts_memories_of_the_users_current_emotion(client):
    happy = remember(client, "We walked by the lake with Tom on Sunday.", "joy", 0.9)
    sad = remember(client, "We walked by the lake with Tom on Monday.", "sadness", 0.9)
    for feeling, first in (("sadness", sad), ("joy", happy)):
        feel(client, feeling)
        contexts, _ = chat(client, "Remember that walk by the lake with Tom?")
        best = max(contexts["contexts"], key=lambda c: c["score"])
        assert best["memory_id"] == first, feeling


def test_the_boost_setting_turns_it_off(make_client):
    client = make_client(emotion="fixed", emotion_boost=0.0)
    remember(client, "We walked by the lake with Tom on Sunday.", "joy", 0.9)
    result = client.post("/api/search", json={"query": "lake with Tom", "emotion": "joy"}
                         ).json()["results"][0]
    assert result["reasons"]["emotion_boost"] == 1.0
