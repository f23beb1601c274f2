"""Search latency (p50/p95) of the full hybrid pipeline at growing sizes of one user's
memories, next to its own parts in the same run: the query embedding alone, and the
keyword-only and vector-only store searches. With --http, the same questions also go
through a real `memlane serve` (its own process, on the same data) over HTTP.

    .venv/bin/python bench/latency.py [--sizes 1000,10000,100000] [--http]

Questions are LoCoMo's (200 of the dev file, beside the project) or a synthetic mix; each
is made unique per round so that no cache answers it. Memories are LoCoMo turns, then
synthetic notes; past --prepared of them, copies of those with a suffix and the same
vectors and entities (the embedder's cost is the ingest benchmark's, not this one's).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid

import httpx
from load import start_server

from machine import LOCOMO, percentile, sample_texts, state
from memlane.config import load_settings
from memlane.domain import Memory, MemoryFilter, MemoryType
from memlane.engine import Engine
from memlane.memory.chunking import content_hash
from memlane.memory.ingest import prepare
from memlane.schemas import SearchQuery

SYNTHETIC = ["what did we talk about hiking?", "when is the dentist appointment?",
             "who went to Oslo?", "what does she like to paint?", "how was the new job?",
             "did anyone mention the garden last week?"]


def questions(n: int) -> list[str]:
    if not LOCOMO.exists():
        return [SYNTHETIC[i % len(SYNTHETIC)] for i in range(n)]
    found = [q["question"] for conv in json.loads(LOCOMO.read_text()) for q in conv["qa"]]
    return found[::max(1, len(found) // n)][:n]


class Filler:
    """Stores memories through the store seam, preparing (NLP + embedding) at most
    ``prepared`` distinct texts and copying those past that."""

    def __init__(self, engine: Engine, prepared: int):
        self.engine, self.limit = engine, prepared
        self.texts = list(dict.fromkeys(sample_texts(prepared)))
        self.prepared: list = []
        self.stored = 0

    async def fill(self, size: int) -> None:
        while self.stored < size:
            n = min(200, size - self.stored)
            await self._prepare(self.stored + n)
            for i in range(self.stored, self.stored + n):
                await self._store(i)
            self.stored += n

    async def _prepare(self, upto: int) -> None:
        todo = self.texts[len(self.prepared):min(upto, len(self.texts))]
        if todo:
            self.prepared += await prepare(todo, self.engine.models, self.engine.settings)

    async def _store(self, i: int) -> None:
        base, copy = i % len(self.texts), i // len(self.texts)
        suffix = f" (copy {copy})" if copy else ""
        prep = self.prepared[base]
        chunks = [type(c)(c.index, c.text + suffix, c.start, c.end, c.vector)
                  for c in prep.chunks]
        text = self.texts[base] + suffix
        memory = Memory(id=uuid.uuid4().hex, user_id="local", text=text,
                        type=MemoryType.episodic, content_hash=content_hash(text))
        await self.engine.store.insert_memory(memory, chunks, prep.mentions, actor="bench")


async def keywords(engine: Engine, query: str) -> list[str]:
    analysis = engine.retriever.analyse(query)
    if asyncio.iscoroutine(analysis):  # before the analysis was lexical it parsed
        analysis = await analysis
    return analysis.keywords


async def parts(engine: Engine, asked: list[str]) -> dict:
    full, embed, keyword, vector = [], [], [], []
    for q in asked:
        t0 = time.perf_counter()
        await engine.search("local", SearchQuery(query=q, limit=10))
        t1 = time.perf_counter()
        v = await engine.models.embed_query(q + " again")
        t2 = time.perf_counter()
        await engine.store.keyword_search("local", await keywords(engine, q), MemoryFilter(),
                                          50)
        t3 = time.perf_counter()
        await engine.store.vector_search("local", v, MemoryFilter(), 50)
        t4 = time.perf_counter()
        for into, ms in ((full, t1 - t0), (embed, t2 - t1), (keyword, t3 - t2),
                         (vector, t4 - t3)):
            into.append(ms * 1000)
    p50 = percentile(full, 0.5)
    return {"search_p50_ms": p50, "search_p95_ms": percentile(full, 0.95),
            "embed_query_p50_ms": percentile(embed, 0.5),
            "keyword_only_p50_ms": percentile(keyword, 0.5),
            "vector_only_p50_ms": percentile(vector, 0.5),
            "ratio_search_vs_embed": round(p50 / max(percentile(embed, 0.5), 1e-6), 2)}


def over_http(data_dir: str, port: int, asked: list[str]) -> dict:
    server = start_server(data_dir, port, auth=False)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for q in asked[:10]:  # warm the server's caches of this user's vectors
                http.post("/api/search", json={"query": q + " (warm)", "limit": 10})
            ms = []
            for q in asked:
                start = time.perf_counter()
                r = http.post("/api/search", json={"query": q + " (http)", "limit": 10})
                ms.append((time.perf_counter() - start) * 1000)
                r.raise_for_status()
        return {"http_search_p50_ms": percentile(ms, 0.5),
                "http_search_p95_ms": percentile(ms, 0.95)}
    finally:
        server.terminate()
        server.wait(30)


async def main(sizes: list[int], rounds: int, prepared: int, http: bool, port: int) -> dict:
    asked = questions(rounds)
    out: dict = {"benchmark": "latency", "questions": len(asked), "prepared": prepared,
                 "locomo": LOCOMO.exists(), "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=tmp, llm="none")
        engine = Engine.from_settings(settings)
        await engine.start()
        filler = Filler(engine, prepared)
        try:
            for size in sizes:
                await filler.fill(size)
                await engine.search("local", SearchQuery(query="warm up", limit=10))
                out["sizes"][str(size)] = await parts(
                    engine, [f"{q} ({size})" for q in asked])
                if http:
                    if hasattr(engine.retriever, "accesses"):
                        await engine.retriever.accesses.settle()
                    out["sizes"][str(size)].update(await asyncio.to_thread(
                        over_http, tmp, port, [f"{q} ({size})" for q in asked]))
        finally:
            await engine.stop()
    out["machine"] = state()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated memory counts, ascending [1000,10000]")
    parser.add_argument("--rounds", type=int, default=200, help="questions per size [200]")
    parser.add_argument("--prepared", type=int, default=10000,
                        help="distinct texts run through NLP and the embedder [10000]")
    parser.add_argument("--http", action="store_true", help="also measure over HTTP")
    parser.add_argument("--port", type=int, default=8432)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(json.dumps(asyncio.run(main(sizes, args.rounds, args.prepared, args.http,
                                      args.port))))
