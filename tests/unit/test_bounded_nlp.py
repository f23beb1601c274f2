"""One long hostile text must not stall the server: NLP works on bounded pieces, lets the
model go between them, and stops parsing a text past its time budget."""
from __future__ import annotations

import asyncio
import time

import httpx

from fakes import HashEmbedder, RegexNLP, SlowNLP
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.models import pieces
from memlane.models.runner import ModelRunner
from support import HOSTILE, free_port, ingest_while_searching, uvicorn_thread

FAKES = {"embedder": "hash", "llm": "scripted", "stt": "tone", "vad": "energy",
         "tts": "tone"}


def test_pieces_cover_the_text_and_cut_at_sentence_ends():
    text = "Alice moved to Paris. " * 200 + "y" * 2500
    cut = pieces.split(text, 1000)
    assert "".join(piece for _, piece in cut) == text
    assert all(len(piece) <= 1000 for _, piece in cut)
    assert all(text[offset:offset + len(piece)] == piece for offset, piece in cut)
    assert cut[0][1].endswith("Paris. ")


def test_a_long_text_parses_as_it_would_whole():
    text = " ".join(f"Sentence {i} names Alice and Bob." for i in range(400))
    runner = ModelRunner(HashEmbedder(), RegexNLP(), piece_chars=500)
    whole, pieced = RegexNLP().parse([text])[0], asyncio.run(runner.parse([text]))[0]
    assert [text[s:e].strip() for s, e in pieced.sentences] == \
        [text[s:e].strip() for s, e in whole.sentences]
    assert {e.name for e in pieced.entities} == {e.name for e in whole.entities}


def test_no_model_call_is_longer_than_a_group():
    nlp = SlowNLP(per_kchar2=0)
    runner = ModelRunner(HashEmbedder(), nlp, piece_chars=1000, group_chars=2000)
    asyncio.run(runner.parse([*HOSTILE.values(), "short one", "short two"]))
    assert max(nlp.calls) <= 2000


def test_past_its_budget_a_text_is_split_by_pattern_only():
    nlp = SlowNLP(per_kchar2=0.2)  # 0.2 s per 1000-character piece
    runner = ModelRunner(HashEmbedder(), nlp, piece_chars=1000, group_chars=1000,
                         nlp_budget_s=0.5)
    start = time.perf_counter()
    parsed = asyncio.run(runner.parse(["Tea with Alice. " * 3000]))[0]
    assert time.perf_counter() - start < 2.0 and len(nlp.calls) <= 4
    assert len(parsed.sentences) == 3000


def test_a_hostile_ingest_delays_a_concurrent_search_by_under_a_second(tmp_path):
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "d", port=port, nlp="slow", **FAKES,
                             nlp_budget_s=3.0)
    with uvicorn_thread(create_app(settings), port) as url:
        client = httpx.Client(base_url=url, timeout=60)
        client.post("/api/memories", json={"text": "I had tea with Alice."})
        for name, text in HOSTILE.items():
            alone = max(_timed_search(client) for _ in range(5))  # this machine, right now
            took, waits = ingest_while_searching(url, client, text)
            assert took < 8, (name, took)  # whole, this text would take 460 s
            assert waits and max(waits) - alone < 1.0, (name, alone, waits)
        assert client.get("/api/health").json()["status"] == "ok"


def _timed_search(client) -> float:
    start = time.perf_counter()
    assert client.post("/api/search", json={"query": "tea with Alice"}).status_code == 200
    return time.perf_counter() - start


def test_a_memory_links_a_bounded_number_of_names(make_client):
    client = make_client(max_entities_per_memory=64)
    names = " ".join(f"Met Name{i} and Name{i % 10} today." for i in range(500))
    memory = client.post("/api/memories", json={"text": names}).json()
    assert len(memory["entities"]) == 64  # each pair of names is a stored relation
    assert {f"Name{i}" for i in range(10)} <= set(memory["entities"])  # the most mentioned
