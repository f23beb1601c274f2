"""The Python client (clients/python, `memlane_client`) against a real uvicorn with fake
models, sync and async over the same calls."""
from __future__ import annotations

import asyncio

import memlane_client
import pytest
from memlane_client import AsyncClient, Client

from memlane.accounts import Accounts
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.models import create
from support import free_port, seed_people, uvicorn_thread

FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}


@pytest.fixture
def served(tmp_path):
    """A multi-user server; yields its URL, ann's API key (password 'ann-secret-1') and
    its LLM."""
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "srv", port=port, auth_enabled=True,
                             access_token_ttl_s=1, **FAKES)
    key = asyncio.run(seed_people(settings, {"ann": False}))["ann"]
    asyncio.run(_password(settings, "ann", "ann-secret-1"))
    app = create_app(settings)
    with uvicorn_thread(app, port) as url:
        yield url, key, app.state.engine.llm


async def _password(settings, name: str, password: str) -> None:
    store = create("store", settings.store, settings)
    await store.open()
    try:
        await Accounts(store, settings).change(name, password=password)
    finally:
        await store.close()


def test_exported_names():
    assert set(memlane_client.__all__) >= {"Client", "AsyncClient", "MemlaneError",
                                           "NotFoundError", "Memory", "Answer", "Event"}


def test_sync_memories_search_pages_and_errors(served):
    url, key, _ = served
    with Client(url, api_key=key) as ml:
        made = ml.remember("My sister Maya lives in Lisbon.", type="profile",
                           metadata={"who": "maya"})
        assert isinstance(made, memlane_client.Memory) and made.type == "profile"
        assert ml.remember("My sister Maya lives in Lisbon.").id == made.id
        hits = ml.search("Where does Maya live?").results
        assert hits[0].memory.id == made.id and hits[0].score > 0
        for i in range(5):
            ml.remember(f"Note number {i} about the garden.")
        assert len(list(ml.iter_memories(page_size=2))) == 6
        assert ml.update(made.id, text="Maya lives in Porto now.").text.endswith("Porto now.")
        ml.forget(made.id)
        with pytest.raises(memlane_client.NotFoundError) as missing:
            ml.get(made.id)
        assert missing.value.status == 404 and missing.value.message.endswith("not found")
        with pytest.raises(memlane_client.InvalidError):
            ml.remember("x", type="gossip")
    with pytest.raises(memlane_client.AuthenticationError) as refused:
        Client(url, api_key="ml_wrong").list()
    assert refused.value.message == "invalid or revoked API key"
    with pytest.raises(memlane_client.UnreachableError):
        Client("http://127.0.0.1:9").list()


def test_sync_ask_and_chat_stream_as_iterators(served):
    url, key, llm = served
    with Client(url, api_key=key) as ml:
        made = ml.remember("The spare key is under the fern.")
        llm.enqueue("Under the fern [1]")
        events = list(ml.ask_stream("Where is the spare key?"))
        assert events[0].event == "contexts" and events[-1].event == "done"
        assert "".join(e.text for e in events if e.event == "token") == "Under the fern [1]"
        assert events[-1].answer.citations == [made.id]
        llm.enqueue("Under the fern [1]")
        whole = ml.ask("Where is the spare key?")
        assert whole.answer == "Under the fern [1]" and whole.contexts[0].memory_id == made.id
        chat = list(ml.chat_stream("Hello there"))
        reply = chat[-1].answer
        assert reply.answer == "You said: Hello there" and reply.conversation_id
        again = ml.chat("And again", conversation_id=reply.conversation_id)
        assert again.conversation_id == reply.conversation_id


def test_async_client_shares_the_api_with_tokens_refreshed(served):
    url, _, _ = served

    async def go():
        async with AsyncClient(url, username="ann", password="ann-secret-1") as ml:
            made = await ml.remember("Async remembers the blue boat.")
            await asyncio.sleep(2.1)  # the access token (1 s) has expired: refreshed
            assert (await ml.get(made.id)).text == made.text
            ids = [m.id async for m in ml.iter_memories(page_size=1)]
            assert ids == [made.id]
            events = [e async for e in ml.ask_stream("Which boat?")]
            assert events[-1].answer.known is True
            summary = await ml.import_file(b'{"text": "imported line", "id": "x1"}\n',
                                           format="jsonl")
            assert summary.imported == 1
            with pytest.raises(memlane_client.NotFoundError):
                await ml.forget("nope")
    asyncio.run(go())
