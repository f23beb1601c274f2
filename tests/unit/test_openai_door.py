"""The OpenAI-compatible door through the official `openai` client, against a real uvicorn
serving the app with fake models. The scripted LLM echoes "You said: <last user message>"
and records every call, so the prompt memlane built can be checked."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import numpy as np
import openai
import pytest

from fakes import ScriptedLLM
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.engine import Engine
from memlane.errors import Unavailable
from memlane.models import create
from memlane.models.runner import ModelRunner
from support import free_port, seed_people, uvicorn_thread

PROMPT = "Tell me about the garden"
WORDS = len(f"You said: {PROMPT}".split())  # the scripted echo's completion tokens


@dataclass
class Door:
    """A served app, its base URL and the API keys of its seeded users."""
    url: str
    app: object
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def llm(self) -> ScriptedLLM:
        return self.app.state.engine.llm

    def client(self, who: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=self.keys.get(who, "x"),
                             max_retries=0, timeout=20)

    def remember(self, text: str, who: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        r = httpx.post(self.url + "/api/memories", json={"text": text}, headers=headers)
        assert r.status_code == 201, r.text

    def prompt_for(self, said: str) -> str:
        """The system message memlane put before the chat call that ended with `said`."""
        calls = [c for c in self.llm.calls
                 if c["json_schema"] is None and c["messages"][-1]["content"] == said]
        assert calls, f"no chat call ended with {said!r}"
        first = calls[-1]["messages"][0]
        assert first["role"] == "system"
        return first["content"]


@contextmanager
def serving(tmp_path, llm=None, people: dict[str, bool] | None = None,
            **overrides) -> Iterator[Door]:
    """Serve the app on a free port; `people` (name → is_admin) are created with keys."""
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "door", embedder="hash", nlp="regex",
                             llm="scripted", port=port, **overrides)
    keys = asyncio.run(seed_people(settings, people or {}))
    engine = None
    if llm is not None:
        models = ModelRunner(create("embedder", "hash", settings),
                             create("nlp", "regex", settings))
        engine = Engine(settings, create("store", settings.store, settings), models, llm)
    app = create_app(settings, engine)
    with uvicorn_thread(app, port) as url:
        yield Door(url, app, keys)


@pytest.fixture
def door(tmp_path):
    with serving(tmp_path) as door:
        yield door


@pytest.fixture
def auth_door(tmp_path):
    with serving(tmp_path, people={"alice": False, "bob": False, "root": True},
                 auth_enabled=True) as door:
        yield door


def test_models_lists_the_chat_and_embedding_models(door):
    assert [m.id for m in door.client().models.list()] == ["memlane", "hash"]
    raw = httpx.get(door.url + "/v1/models").json()
    assert raw["object"] == "list"
    assert all(m["object"] == "model" and m["owned_by"] == "memlane"
               and isinstance(m["created"], int) and m["created"] < 1e10 for m in raw["data"])
    assert door.client().models.retrieve("hash").id == "hash"


def test_chat_non_streaming(door):
    done = door.client().chat.completions.create(
        model="memlane", messages=[{"role": "user", "content": PROMPT}])
    assert done.id.startswith("chatcmpl-") and done.object == "chat.completion"
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].message.content == f"You said: {PROMPT}"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage.completion_tokens == WORDS and done.usage.prompt_tokens > 0
    assert done.usage.total_tokens == done.usage.prompt_tokens + WORDS


def test_chat_streaming_follows_the_protocol(door):
    client = door.client()
    chunks = list(client.chat.completions.create(
        model="memlane", messages=[{"role": "user", "content": PROMPT}], stream=True,
        stream_options={"include_usage": True}))
    *with_choices, last = chunks
    assert last.choices == [] and last.usage.completion_tokens == WORDS
    assert {c.id for c in chunks} == {chunks[0].id} and len({c.created for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert with_choices[0].choices[0].delta.role == "assistant"
    finished = [i for i, c in enumerate(with_choices) if c.choices[0].finish_reason]
    assert finished == [len(with_choices) - 1]
    assert with_choices[-1].choices[0].finish_reason == "stop"
    pieces = [c.choices[0].delta.content for c in with_choices if c.choices[0].delta.content]
    assert len(pieces) >= 3
    whole = client.chat.completions.create(
        model="memlane", messages=[{"role": "user", "content": PROMPT}])
    assert "".join(pieces) == whole.choices[0].message.content


def test_stream_on_the_wire(door):
    body = {"model": "memlane", "stream": True,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi "},
                                                      {"type": "text", "text": "there"}]}]}
    r = httpx.post(door.url + "/v1/chat/completions", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [e for e in r.text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert "usage" not in chunks[-1] and chunks[-1]["choices"][0]["delta"] == {}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "You said: Hi there", "text parts are joined"


def test_embeddings_float_and_base64(door):
    client = door.client()
    texts = ["the garden is green", "my sister likes orchids"]
    floats = client.embeddings.create(model="hash", input=texts, encoding_format="float")
    packed = client.embeddings.create(model="hash", input=texts)  # the client asks base64
    assert [d.index for d in floats.data] == [0, 1] and floats.model == "hash"
    a = np.array([d.embedding for d in floats.data])
    b = np.array([d.embedding for d in packed.data])
    assert a.shape == (2, 64) and np.allclose(a, b, atol=1e-7)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert floats.usage.prompt_tokens == floats.usage.total_tokens > 0
    one = client.embeddings.create(model="hash", input="the garden is green")
    assert np.allclose(one.data[0].embedding, a[0], atol=1e-7)


def test_bad_requests_are_openai_errors(door, tmp_path):
    client = door.client()
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope", messages=[{"role": "user",
                                                                 "content": "hi"}])
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="hash", input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="memlane", messages=[
            {"role": "user", "content": "hi"}], response_format={"type": "yaml"})
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="memlane", messages=[{"role": "wizard",
                                                                   "content": "hi"}])
    assert caught.value.param == "messages.0.role"
    r = httpx.post(door.url + "/v1/chat/completions", content=b"{\"model\":",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param",
                                                               "code"}
    with serving(tmp_path / "small", max_batch=2) as small:
        with pytest.raises(openai.APIStatusError) as caught:
            small.client().embeddings.create(model="hash", input=["a", "b", "c"])
        assert caught.value.status_code == 413


def test_keys_are_required_and_checked(auth_door):
    with pytest.raises(openai.AuthenticationError) as caught:
        auth_door.client().models.list()  # key "x"
    assert caught.value.code == "invalid_api_key"
    assert httpx.get(auth_door.url + "/v1/models").status_code == 401
    assert "memlane" in [m.id for m in auth_door.client("alice").models.list()]
    with pytest.raises(openai.UnprocessableEntityError):
        auth_door.client("alice").chat.completions.create(model="memlane", messages=[])


def test_memory_is_injected_and_what_is_told_is_learned(door):
    door.remember("The garden has three apple trees and a pond")
    told = "The pond has four goldfish."
    for said in (PROMPT, told):
        door.client().chat.completions.create(
            model="memlane", messages=[{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": said}])
    assert "three apple trees" in door.prompt_for(PROMPT)
    deadline = time.time() + 10
    while not any(c["json_schema"] and c["messages"][-1]["content"] == told
                  for c in door.llm.calls):
        assert time.time() < deadline, "the user's statement was not sent to extraction"
        time.sleep(0.05)
    assert not any(c["json_schema"] and PROMPT in c["messages"][-1]["content"]
                   for c in door.llm.calls), "a request is not a source of facts"


def test_user_field_needs_an_admin_key(auth_door):
    secret = "The garden vault code is quokka77"
    auth_door.remember(secret, who="alice")
    ask = [{"role": "user", "content": PROMPT}]
    auth_door.client("bob").chat.completions.create(model="memlane", messages=ask,
                                                    user="alice")
    assert "quokka77" not in auth_door.prompt_for(PROMPT)
    auth_door.client("root").chat.completions.create(model="memlane", messages=ask,
                                                     user="alice")
    assert "quokka77" in auth_door.prompt_for(PROMPT)
    auth_door.client("root").chat.completions.create(model="memlane", messages=ask,
                                                     user="end-user-4711")
    assert "quokka77" not in auth_door.prompt_for(PROMPT), "unknown user: the caller's own"


class FailingLLM(ScriptedLLM):
    """The scripted echo whose backend goes away after `after` pieces."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after

    async def stream(self, messages, **options):
        sent = 0
        async for delta in super().stream(messages, **options):
            if sent == self.after:
                raise Unavailable("the backend went away")
            sent += 1
            yield delta


def test_failures_keep_their_status_or_end_the_stream(tmp_path):
    ask = {"model": "memlane", "messages": [{"role": "user", "content": PROMPT}]}
    with serving(tmp_path / "at-once", llm=FailingLLM(after=0)) as door:
        with pytest.raises(openai.InternalServerError) as caught:
            door.client().chat.completions.create(**ask, stream=True)
        assert caught.value.status_code == 503
    with serving(tmp_path / "mid", llm=FailingLLM(after=2)) as door:
        got = []
        with pytest.raises(openai.APIError, match="backend went away"):
            for chunk in door.client().chat.completions.create(**ask, stream=True):
                got.append(chunk.choices[0].delta.content or "")
        assert "".join(got) == "You said: "
        r = httpx.post(door.url + "/v1/chat/completions", json={**ask, "stream": True})
        events = [e for e in r.text.split("\n\n") if e]
        assert events[-1] == "data: [DONE]"
        error = json.loads(events[-2][6:])["error"]
        assert error["type"] == "server_error" and "Traceback" not in r.text


def test_memlane_talks_to_memlane(door):
    llm = create("llm", "remote", load_settings(
        data_dir=door.app.state.engine.settings.data_dir, llm="remote",
        llm_base_url=door.url + "/v1", llm_remote_model="memlane", llm_retries=0))

    async def talk():
        return [d async for d in llm.stream([{"role": "user", "content": PROMPT}],
                                            max_tokens=50)]
    deltas = asyncio.run(talk())
    assert "".join(d.text for d in deltas) == f"You said: {PROMPT}"
    assert len(deltas) > 3 and deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage.completion_tokens == WORDS


def test_a_client_through_memlane_on_memlane(door, tmp_path):
    """memlane whose LLM is another memlane's /v1: the stream passes through both doors."""
    settings = load_settings(data_dir=tmp_path / "front", llm="remote", llm_retries=0,
                             llm_base_url=door.url + "/v1", llm_remote_model="memlane")
    with serving(tmp_path / "front", llm=create("llm", "remote", settings)) as front:
        front.remember("The garden shed is painted blue")
        ask = {"model": "memlane", "messages": [{"role": "user", "content": PROMPT}]}
        pieces = [c.choices[0].delta.content or "" for c in front.client().chat.completions
                  .create(**ask, stream=True) if c.choices]
        assert "".join(pieces) == f"You said: {PROMPT}"
        done = front.client().chat.completions.create(**ask)
        assert done.choices[0].message.content == f"You said: {PROMPT}"
    chat = [c for c in door.llm.calls if c["json_schema"] is None][-1]["messages"]
    assert [m["role"] for m in chat] == ["system", "user"], "one system message, first"
    assert "painted blue" in chat[0]["content"], "the front's memories reach the back"
