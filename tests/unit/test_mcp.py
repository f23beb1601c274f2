"""The MCP door with the official `mcp` client: streamable HTTP on a real uvicorn (auth
like REST), and stdio on a spawned `memlane mcp` process."""
from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from memlane.api.app import create_app
from memlane.config import load_settings
from support import free_port, seed_people, uvicorn_thread

pytestmark = pytest.mark.anyio
TESTS = Path(__file__).parent.parent
FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}
TOOLS = {"remember", "search", "ask", "list", "get", "update", "forget", "recall"}


@pytest.fixture
def server(tmp_path):
    """A multi-user server on a real port: its URL and the keys of ann and bob."""
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "srv", port=port, auth_enabled=True,
                             **FAKES)
    keys = anyio.run(seed_people, settings, {"ann": False, "bob": False})
    app = create_app(settings)
    with uvicorn_thread(app, port) as url:
        yield url, keys, app.state.engine.llm


@asynccontextmanager
async def http_client(url: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            yield client


async def test_http_tools_remember_search_ask(server):
    url, keys, llm = server
    async with http_client(url, keys["ann"]) as ann:
        tools = (await ann.list_tools()).tools
        assert {t.name for t in tools} == TOOLS
        remember = next(t for t in tools if t.name == "remember")
        assert remember.input_schema["required"] == ["text"] and remember.output_schema
        made = await ann.call_tool("remember", {"text": "My sister Maya lives in Lisbon."})
        assert not made.is_error and made.structured_content["created"] is True
        memory_id = made.structured_content["memory"]["id"]
        found = await ann.call_tool("search", {"query": "Where does Maya live?"})
        assert [r["memory"]["id"] for r in found.structured_content["results"]] == [memory_id]
        llm.enqueue("Lisbon [1]")
        answer = await ann.call_tool("ask", {"question": "Where does Maya live?"})
        assert answer.structured_content["answer"] == "Lisbon [1]"
        assert [c["memory_id"] for c in answer.structured_content["citations"]] == [memory_id]


async def test_http_other_user_sees_nothing(server):
    url, keys, _ = server
    async with http_client(url, keys["ann"]) as ann:
        made = await ann.call_tool("remember", {"text": "Ann's locker code is 4711."})
        memory_id = made.structured_content["memory"]["id"]
    async with http_client(url, keys["bob"]) as bob:
        found = await bob.call_tool("search", {"query": "locker code"})
        assert found.structured_content["results"] == []
        listed = await bob.call_tool("list", {})
        assert listed.structured_content["total"] == 0
        got = await bob.call_tool("get", {"memory_id": memory_id})
        assert got.is_error and got.content[0].text == f"memory {memory_id} not found"
        assert got.structured_content["status"] == 404
        gone = await bob.call_tool("forget", {"memory_id": memory_id})
        assert gone.is_error


async def test_http_refuses_a_bad_key_like_rest(server):
    url, _, _ = server
    for key in (None, "ml_not-a-key"):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        rest = httpx.get(f"{url}/api/memories", headers=headers)
        mcp = httpx.post(f"{url}/mcp", headers={**headers, "Accept": "application/json, "
                                                 "text/event-stream"},
                         json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert mcp.status_code == rest.status_code == 401
        assert mcp.json()["detail"] == rest.json()["detail"]
        assert mcp.headers["www-authenticate"] == "Bearer"
    with pytest.raises(Exception):  # noqa: B017  (the SDK's own error for a 401)
        async with http_client(url, "ml_not-a-key") as client:
            await client.list_tools()


async def test_http_update_forget_recall_and_errors(server):
    url, keys, _ = server
    async with http_client(url, keys["ann"]) as ann:
        made = await ann.call_tool("remember", {"text": "I take the 8:10 train to work.",
                                                "metadata": {"topic": "commute"}})
        memory_id = made.structured_content["memory"]["id"]
        changed = await ann.call_tool("update", {"memory_id": memory_id,
                                                 "text": "I take the 7:40 train to work."})
        assert changed.structured_content["text"] == "I take the 7:40 train to work."
        recalled = await ann.call_tool("recall", {"messages": [
            {"role": "assistant", "content": "Morning! Anything I can help with?"},
            {"role": "user", "content": "Which train do I take to work?"}]})
        assert [m["memory_id"] for m in recalled.structured_content["memories"]] == [memory_id]
        assert "7:40 train" in recalled.structured_content["context"]
        bad = await ann.call_tool("remember", {"text": "x", "type": "gossip"})
        assert bad.is_error
        assert (await ann.call_tool("forget", {"memory_id": memory_id})).structured_content == {
            "deleted": memory_id}
        again = await ann.call_tool("forget", {"memory_id": memory_id})
        assert again.is_error and again.content[0].text == f"memory {memory_id} not found"


async def test_stdio_local_data_directory(tmp_path):
    env = {f"MEMLANE_{k.upper()}": v for k, v in FAKES.items()}
    async with Client(_stdio(MEMLANE_DATA_DIR=str(tmp_path / "data"), **env)) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        made = await client.call_tool("remember", {"text": "The spare key is under the fern."})
        assert not made.is_error
        found = await client.call_tool("search", {"query": "where is the spare key"})
        assert found.structured_content["results"][0]["memory"]["text"].startswith("The spare")
        answer = await client.call_tool("ask", {"question": "Where is the spare key?"})
        memory_id = made.structured_content["memory"]["id"]
        assert [c["memory_id"] for c in answer.structured_content["citations"]] == [memory_id]


def _stdio(*args: str, **env: str) -> StdioServerParameters:
    path = os.pathsep.join([str(TESTS.parent / "src"), str(TESTS),
                            os.environ.get("PYTHONPATH", "")])
    return StdioServerParameters(command=sys.executable,
                                 args=[str(TESTS / "fake_serve.py"), "mcp", *args],
                                 env={**os.environ, "PYTHONPATH": path, **env})


async def test_stdio_bridge_to_a_running_server(server):
    url, keys, _ = server
    async with Client(_stdio("--url", url, "--key", keys["ann"])) as ann:
        assert {t.name for t in (await ann.list_tools()).tools} == TOOLS
        made = await ann.call_tool("remember", {"text": "Bridged: the boat is blue."})
        assert not made.is_error
        missing = await ann.call_tool("get", {"memory_id": "nope"})
        assert missing.is_error and missing.content[0].text == "memory nope not found"
    async with http_client(url, keys["ann"]) as direct:
        found = await direct.call_tool("search", {"query": "boat"})
        assert found.structured_content["results"][0]["memory"]["text"].startswith("Bridged")


def test_http_refuses_foreign_hosts_and_origins_on_loopback(server):
    url, keys, _ = server
    headers = {"Authorization": f"Bearer {keys['ann']}",
               "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    host = httpx.post(f"{url}/mcp", headers={**headers, "Host": "evil.example"}, json=body)
    assert host.status_code == 421
    origin = httpx.post(f"{url}/mcp", headers={**headers, "Origin": "http://evil.example"},
                        json=body)
    assert origin.status_code == 403
