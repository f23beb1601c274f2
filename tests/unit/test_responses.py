"""`POST /v1/responses` through the official `openai` client (`responses.create`, plain
and streamed) against a real uvicorn with fake models; the scripted LLM echoes "You said:
<last user message>" and keeps every prompt."""
from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from memlane.api.app import create_app
from memlane.config import load_settings
from support import free_port, seed_people, sse_events, uvicorn_thread

FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}


@pytest.fixture
def served(tmp_path):
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "srv", port=port, auth_enabled=True,
                             **FAKES)
    keys = asyncio.run(seed_people(settings, {"ann": False, "bob": False}))
    app = create_app(settings)
    with uvicorn_thread(app, port) as url:
        yield url, keys, app.state.engine.llm


def last_prompt(llm) -> list[dict]:
    """The messages of the last reply (fact extraction runs in between, in the back)."""
    return [c for c in llm.calls if c["json_schema"] is None][-1]["messages"]


def client(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=20)


def test_a_response_is_grounded_on_memories(served):
    url, keys, llm = served
    httpx.post(url + "/api/memories", json={"text": "Ann's dog is called Pepper."},
               headers={"Authorization": f"Bearer {keys['ann']}"})
    out = client(url, keys["ann"]).responses.create(
        model="memlane", input="What is my dog called?", instructions="Be terse.")
    assert out.object == "response" and out.status == "completed"
    assert out.output_text == "You said: What is my dog called?"
    assert out.id.startswith("resp_") and out.usage.output_tokens == 7  # words
    system = last_prompt(llm)[0]
    assert system["role"] == "system" and system["content"].startswith("Be terse.")
    assert "Pepper" in system["content"]


def test_previous_response_id_continues_and_forks(served):
    url, keys, llm = served
    ann = client(url, keys["ann"])
    first = ann.responses.create(model="memlane", input="My name is Ann.")
    second = ann.responses.create(model="memlane", input="What did I say?",
                                  previous_response_id=first.id)
    assert [m["content"] for m in last_prompt(llm)[1:]] == [
        "My name is Ann.", "You said: My name is Ann.", "What did I say?"]
    ann.responses.create(model="memlane", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "Another branch."}]}], previous_response_id=first.id)
    assert [m["content"] for m in last_prompt(llm)[1:]] == [
        "My name is Ann.", "You said: My name is Ann.", "Another branch."]
    third = ann.responses.create(model="memlane", input="And now?",
                                 previous_response_id=second.id)
    assert len(last_prompt(llm)[1:]) == 5 and third.status == "completed"
    with pytest.raises(openai.NotFoundError) as refused:
        client(url, keys["bob"]).responses.create(model="memlane", input="hi",
                                                  previous_response_id=first.id)
    assert refused.value.body["param"] == "previous_response_id"


def test_streamed_events_follow_the_protocol(served):
    url, keys, _ = served
    stream = client(url, keys["ann"]).responses.create(model="memlane", input="Hello there",
                                                       stream=True)
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress",
                         "response.output_item.added", "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "You said: Hello there" == events[-4].text
    done = events[-1].response
    assert done.output_text == text and done.id == events[0].response.id
    follow = client(url, keys["ann"]).responses.create(
        model="memlane", input="more", previous_response_id=done.id)
    assert follow.status == "completed"


def test_on_the_wire_each_event_names_its_type(served):
    url, keys, _ = served
    r = httpx.post(url + "/v1/responses", json={"model": "memlane", "input": "hi",
                                                "stream": True},
                   headers={"Authorization": f"Bearer {keys['ann']}"})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert all(name == data["type"] for name, data in events)


def test_errors_are_openai_shaped(served):
    url, keys, _ = served
    ann = client(url, keys["ann"])
    with pytest.raises(openai.NotFoundError) as wrong_model:
        ann.responses.create(model="gpt-9", input="hi")
    assert wrong_model.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as image:
        ann.responses.create(model="memlane", input=[{"role": "user", "content": [
            {"type": "input_image", "image_url": "http://x/y.png"}]}])
    assert image.value.body["param"] == "input.0.content"
    with pytest.raises(openai.AuthenticationError):
        client(url, "ml_wrong").responses.create(model="memlane", input="hi")
    r = httpx.post(url + "/v1/responses", json={"model": "memlane"},
                   headers={"Authorization": f"Bearer {keys['ann']}"})
    assert r.status_code == 422 and r.json()["error"]["param"] == "input"
