"""The packaged Qwen2.5-Coder-1.5B through llama.cpp: streaming, JSON output, early stops."""
from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

COUNT = [{"role": "system", "content": "You are a terse assistant."},
         {"role": "user", "content": "Count from 1 to 20, separated by commas."}]


async def test_stream_yields_pieces_then_usage(real_llm):
    deltas = [d async for d in real_llm.stream(COUNT, max_tokens=12, temperature=0.0)]
    *pieces, last = deltas
    assert len(pieces) >= 5 and all(d.text and d.finish_reason is None for d in pieces)
    assert "1" in "".join(d.text for d in pieces)
    assert last.text == "" and last.finish_reason == "length"
    assert last.usage.completion_tokens == 12
    assert last.usage.prompt_tokens > real_llm.count_tokens(COUNT[1]["content"])


async def test_complete_json_follows_the_schema(real_llm):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"]}
    question = [{"role": "user", "content": "What is the capital of France? Reply in JSON."}]
    reply = await real_llm.complete_json(question, schema, max_tokens=30, temperature=0.0)
    assert isinstance(reply, dict) and isinstance(reply["answer"], str)


async def test_closing_a_stream_early_frees_the_model(real_llm):
    stream = real_llm.stream(COUNT, max_tokens=300)
    assert (await anext(stream)).text
    await stream.aclose()
    done = await asyncio.wait_for(real_llm.complete(COUNT, max_tokens=3), timeout=20)
    assert done.usage.completion_tokens == 3


async def test_cancelling_the_consumer_frees_the_model(real_llm):
    first = asyncio.Event()

    async def consume():
        async for _ in real_llm.stream(COUNT, max_tokens=300):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    done = await asyncio.wait_for(real_llm.complete(COUNT, max_tokens=3), timeout=20)
    assert done.finish_reason == "length"
