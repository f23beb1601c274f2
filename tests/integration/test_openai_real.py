"""The official `openai` client against memlane's /v1 door, with the real packaged models
and the real local LLM: the answer comes from a stored memory."""
from __future__ import annotations

import httpx
import openai
import pytest

from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.models.llm import LLM
from support import free_port, uvicorn_thread

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "When is my sister's birthday?"}]


class Borrowed(LLM):
    """The session's LLM lent to one app: the app's shutdown must not unload it."""

    def __init__(self, llm: LLM):
        self.llm, self.name, self.context_window = llm, llm.name, llm.context_window

    def stream(self, messages, **options):
        return self.llm.stream(messages, **options)

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)


@pytest.fixture
def real_door(real_models, real_llm, tmp_path):
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "real", port=port, extraction_enabled=False)
    engine = real_models.engine(settings, Borrowed(real_llm))
    with uvicorn_thread(create_app(settings, engine), port) as url:
        yield url


def test_openai_client_answers_from_memory(real_door):
    memory = {"text": "My sister's birthday is June 14th and she loves orchids"}
    assert httpx.post(real_door + "/api/memories", json=memory).status_code == 201
    client = openai.OpenAI(base_url=real_door + "/v1", api_key="unused", max_retries=0,
                           timeout=120)
    done = client.chat.completions.create(model="memlane", messages=QUESTION, max_tokens=24,
                                          temperature=0)
    text = done.choices[0].message.content
    assert "june" in text.lower() and "14" in text, text
    assert done.usage.completion_tokens <= 24
    chunks = list(client.chat.completions.create(
        model="memlane", messages=QUESTION, max_tokens=24, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "june" in streamed.lower() and "14" in streamed, streamed
    assert chunks[-1].usage.completion_tokens <= 24
