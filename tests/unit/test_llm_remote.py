"""RemoteLLM against a fake OpenAI-compatible server run by a real uvicorn in a thread."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from memlane.config import load_settings
from memlane.errors import Invalid, Unavailable
from memlane.models import create
from memlane.models.remote import RemoteLLM
from support import free_port, uvicorn_thread

pytestmark = pytest.mark.anyio
MESSAGES = [{"role": "user", "content": "Say hello"}]


@dataclass
class FakeUpstream:
    """Refuses with the queued statuses first, then streams ``pieces``."""
    refusals: list[int] = field(default_factory=list)
    pieces: list[str] = field(default_factory=lambda: ["Hello", ", ", "world"])
    delay_s: float = 0.0
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    payloads: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)

    async def chat(self, request: Request):
        self.calls += 1
        self.payloads.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.refusals:
            status = self.refusals.pop(0)
            error = {"message": f"refused with {status}", "type": "test", "param": None,
                     "code": None}
            return JSONResponse({"error": error}, status, headers={"Retry-After": "0"})
        return StreamingResponse(self.events(), media_type="text/event-stream")

    async def events(self):
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                    "model": "fake"}
            yield _event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"},
                                               "finish_reason": None}]})
            for piece in self.pieces:
                yield _event({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                   "finish_reason": None}]})
            yield _event({**base, "choices": [{"index": 0, "delta": {},
                                               "finish_reason": "stop"}]})
            yield _event({**base, "choices": [], "usage": {
                "prompt_tokens": 12, "completion_tokens": len(self.pieces),
                "total_tokens": 12 + len(self.pieces)}})
            yield "data: [DONE]\n\n"
        finally:
            self.in_flight -= 1


def _event(chunk: dict) -> str:
    return f"data: {json.dumps(chunk)}\n\n"


class Handler:
    def __init__(self):
        self.upstream = FakeUpstream()

    async def chat(self, request: Request):
        return await self.upstream.chat(request)


@pytest.fixture(scope="module")
def server():
    handler = Handler()
    app = Starlette(routes=[Route("/v1/chat/completions", handler.chat, methods=["POST"])])
    with uvicorn_thread(app, free_port()) as url:
        yield handler, f"{url}/v1"


@pytest.fixture
def upstream(server):
    handler, _ = server
    handler.upstream = FakeUpstream()
    return handler.upstream


@pytest.fixture
def make_llm(server):
    def make(**options) -> RemoteLLM:
        options = {"retries": 3, "backoff_s": 0.01, "api_key": "sk-test", **options}
        return RemoteLLM(server[1], "fake-model", **options)
    return make



async def test_retries_429_then_streams_text_and_usage(upstream, make_llm):
    upstream.refusals = [429, 429]
    deltas = [d async for d in make_llm().stream(MESSAGES, max_tokens=20)]
    assert "".join(d.text for d in deltas) == "Hello, world"
    assert len(deltas) == 4 and deltas[-1].finish_reason == "stop"
    assert (deltas[-1].usage.prompt_tokens, deltas[-1].usage.completion_tokens) == (12, 3)
    assert upstream.calls == 3
    sent = upstream.payloads[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "fake-model" and sent["messages"] == MESSAGES
    assert upstream.headers[-1]["authorization"] == "Bearer sk-test"


async def test_client_error_is_unavailable_at_once(upstream, make_llm):
    upstream.refusals = [400]
    with pytest.raises(Unavailable, match=r"400.*refused with 400"):
        await make_llm().complete(MESSAGES)
    assert upstream.calls == 1


async def test_retries_exhaust_into_unavailable(upstream, make_llm):
    upstream.refusals = [503] * 10
    with pytest.raises(Unavailable, match="503 after 3 attempts"):
        await make_llm(retries=2).complete(MESSAGES)
    assert upstream.calls == 3


async def test_unreachable_server_is_unavailable():
    llm = RemoteLLM(f"http://127.0.0.1:{free_port()}/v1", "m", retries=1, backoff_s=0.01)
    with pytest.raises(Unavailable, match="failed"):
        await llm.complete(MESSAGES)


async def test_concurrency_is_bounded(upstream, make_llm):
    upstream.delay_s = 0.2
    llm = make_llm(concurrency=2)
    done = await asyncio.gather(*(llm.complete(MESSAGES) for _ in range(5)))
    assert [c.text for c in done] == ["Hello, world"] * 5
    assert upstream.max_in_flight == 2


async def test_json_schema_goes_as_response_format(upstream, make_llm):
    upstream.pieces = ['{"answer"', ': "42"}']
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"]}
    assert await make_llm().complete_json(MESSAGES, schema) == {"answer": "42"}
    assert upstream.payloads[-1]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True}}


def test_registry_builds_remote_and_refuses_without_base_url(tmp_path):
    with pytest.raises(Invalid, match="llm_base_url"):
        create("llm", "remote", load_settings(data_dir=tmp_path, llm="remote"))
    settings = load_settings(data_dir=tmp_path, llm_base_url="http://h:1/v1/",
                             llm_api_key="sk-secret", llm_remote_model="m")
    llm = create("llm", "remote", settings)
    assert llm.info()["base_url"] == "http://h:1/v1" and llm.info()["model"] == "m"
    assert "sk-secret" not in repr(llm.info())
