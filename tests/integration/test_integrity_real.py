"""Issue 12 end to end on the real models and the real local LLM, with fact extraction in
the background: told in one conversation, found at once in another and again after the
job queue is empty; never-told facts are not invented; extraction stores nothing the user
did not say and overwrites nothing in place. REST chat, /v1 with the official openai
client, and spoken on /ws/voice with espeak-ng and a real websockets client."""
from __future__ import annotations

import json
import re
import time

import httpx
import openai
import pytest
from websockets.sync.client import connect

from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.memory.told import ungrounded
from memlane.voice.models import VoiceModels
from support import free_port, uvicorn_thread
from voice_support import espeak

pytestmark = pytest.mark.integration

TOLD = "Remember that my passport number ends in 4471."
QUESTION = "What does my passport number end in?"


@pytest.fixture
def served(real_models, real_llm, whisper, silero, piper, tmp_path):
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "integrity", port=port)
    engine = real_models.engine(settings, real_llm, voice=VoiceModels(whisper, silero, piper))
    with uvicorn_thread(create_app(settings, engine), port) as url:
        yield httpx.Client(base_url=url, timeout=300)


def chat(rest: httpx.Client, message: str) -> str:
    r = rest.post("/api/chat", json={"message": message, "stream": False, "max_tokens": 48})
    assert r.status_code == 200, r.text
    return r.json()["answer"]


def wait_for_jobs(rest: httpx.Client) -> None:
    deadline = time.time() + 300
    while (jobs := rest.get("/api/health").json()["jobs"])["queued"] or jobs["running"]:
        assert time.time() < deadline, jobs
        time.sleep(0.2)


def audit(rest: httpx.Client, said: list[str]) -> list[dict]:
    """Every memory (superseded too): none holds what was not said, none was rewritten."""
    memories = rest.get("/api/memories", params={"include_superseded": "true"}).json()
    for m in memories["memories"]:
        assert not ungrounded(m["text"], said), m
        events = [(h["event"], h["actor"]) for h in
                  rest.get(f"/api/memories/{m['id']}/history").json()]
        assert ("UPDATE", "extraction") not in events, events
    return memories["memories"]


def test_rest_chat_keeps_the_passport_number_and_invents_nothing(served):
    chat(served, TOLD)
    assert "4471" in chat(served, QUESTION), "found at once, in a new conversation"
    wait_for_jobs(served)
    assert "4471" in chat(served, QUESTION), "and after the background jobs"
    unknown = chat(served, "What is my blood type?")
    assert "don't know" in unknown.lower(), unknown
    wait_for_jobs(served)
    stored = audit(served, [TOLD])
    assert any("4471" in m["text"] for m in stored if m["valid_until"] is None)


def test_openai_client_keeps_the_passport_number(served):
    client = openai.OpenAI(base_url=str(served.base_url).rstrip("/") + "/v1",
                           api_key="unused", timeout=300, max_retries=0)

    def complete(text: str) -> str:
        done = client.chat.completions.create(
            model="memlane", messages=[{"role": "user", "content": text}], max_tokens=48)
        return done.choices[0].message.content

    complete(TOLD)
    assert "4471" in complete(QUESTION)
    wait_for_jobs(served)
    assert "4471" in complete(QUESTION)
    audit(served, [TOLD])


def test_spoken_passport_number_is_kept_and_given_back(served, tmp_path):
    url = str(served.base_url).rstrip("/").replace("http", "ws") + "/ws/voice"

    def say(socket, text: str) -> dict:
        socket.send(espeak(text, tmp_path))
        socket.send(json.dumps({"type": "end"}))
        heard = None
        while True:
            message = socket.recv(timeout=300)
            if isinstance(message, bytes):
                continue
            event = json.loads(message)
            assert event["type"] != "error", event
            if event["type"] == "transcript" and event.get("final", True):
                heard = event["text"]
            if event["type"] == "reply" and event["final"]:
                return {"heard": heard, "reply": event["text"]}

    with connect(url, max_size=None, open_timeout=10) as socket:
        json.loads(socket.recv(timeout=30))
        told = say(socket, "Remember that my passport number ends in 4 4 7 1.")
    with connect(url, max_size=None, open_timeout=10) as socket:  # a new conversation
        json.loads(socket.recv(timeout=30))
        asked = say(socket, "What does my passport number end in?")
    assert "4471" in _digits(told["heard"]), told
    assert "4471" in _digits(asked["reply"]), asked
    wait_for_jobs(served)
    audit(served, [told["heard"]])


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")
