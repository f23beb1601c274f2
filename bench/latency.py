"""Search latency (p50/p95) of the full hybrid pipeline at growing sizes of one user's
memories, against its own parts in the same run: the query embedding alone and a
keyword-only store search."""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

from machine import percentile, sample_texts, state
from memlane.config import load_settings
from memlane.domain import MemoryFilter
from memlane.engine import Engine
from memlane.schemas import MemoryCreate, SearchQuery

QUERIES = ["what did we talk about hiking?", "when is the dentist appointment?",
           "who went to Oslo?", "what does she like to paint?", "how was the new job?",
           "did anyone mention the garden last week?"]


async def measure(engine: Engine, rounds: int, size: int) -> dict:
    full, embed, keyword = [], [], []
    for i in range(rounds):
        q = f"{QUERIES[i % len(QUERIES)]} ({size}-{i})"  # unique: measure work, not the cache
        t0 = time.perf_counter()
        await engine.search("local", SearchQuery(query=q, limit=10))
        t1 = time.perf_counter()
        await engine.models.embed_query(q + " again")
        t2 = time.perf_counter()
        await engine.store.keyword_search("local", q.split(), MemoryFilter(), 50)
        t3 = time.perf_counter()
        full.append((t1 - t0) * 1000)
        embed.append((t2 - t1) * 1000)
        keyword.append((t3 - t2) * 1000)
    p50 = percentile(full, 0.5)
    return {"search_p50_ms": p50, "search_p95_ms": percentile(full, 0.95),
            "baseline_embed_query_p50_ms": percentile(embed, 0.5),
            "baseline_keyword_only_p50_ms": percentile(keyword, 0.5),
            "ratio_search_vs_embed": round(p50 / max(percentile(embed, 0.5), 1e-6), 2)}


async def main(sizes: list[int], rounds: int) -> dict:
    texts = list(dict.fromkeys(sample_texts(max(sizes))))
    out = {"benchmark": "latency", "rounds": rounds, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_settings(load_settings(data_dir=tmp, llm="none"))
        await engine.start()
        stored = 0
        for size in sizes:
            items = [MemoryCreate(text=t, type="episodic") for t in texts[stored:size]]
            for i in range(0, len(items), 100):
                await engine.memories.add_many("local", items[i:i + 100])
            stored = size
            out["sizes"][str(size)] = await measure(engine, rounds, size)
        await engine.stop()
    out["machine"] = state()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(json.dumps(asyncio.run(main(sizes, args.rounds))))
