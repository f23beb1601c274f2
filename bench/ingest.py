"""Ingest throughput of the engine (NLP, chunking, embedding, storing) against the raw
embedder on the same texts in the same run, in two ways of adding:

- batch: `add_many` with batches of --batch texts, one after another;
- single: --concurrent clients each adding one memory at a time (`add`), as chat turns
  and one-at-a-time API calls do; what they wait for together is shared (models/turns.py).

The raw embedder runs unsorted (texts in their order, batches of 64) and sorted by length
(little padding), the latter being the rate to compare with. Also reports the process's
peak RSS and the database's size per 10k memories. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path

from machine import sample_texts, state
from memlane.config import load_settings
from memlane.engine import Engine
from memlane.schemas import MemoryCreate


def raw_rate(engine: Engine, texts: list[str], ordered: bool) -> float:
    todo = sorted(texts, key=len) if ordered else texts
    start = time.perf_counter()
    for i in range(0, len(todo), 64):
        engine.models.embedder.embed_batch(todo[i:i + 64])
    return round(len(todo) / (time.perf_counter() - start), 1)


async def batches(engine: Engine, texts: list[str], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        await engine.memories.add_many("local", [MemoryCreate(text=t, type="episodic")
                                                 for t in texts[i:i + batch]])
    return round(len(texts) / (time.perf_counter() - start), 1)


async def singles(engine: Engine, texts: list[str], concurrent: int) -> float:
    todo = iter(texts)

    async def client() -> None:
        for text in todo:
            await engine.memories.add("local", MemoryCreate(text=text, type="episodic"))

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrent)))
    return round(len(texts) / (time.perf_counter() - start), 1)


def disk_mb(data_dir: str) -> float:
    return sum(p.stat().st_size for p in Path(data_dir).glob("memlane.db*")) / 1e6


async def main(n: int, batch: int, concurrent: int) -> dict:
    texts = list(dict.fromkeys(sample_texts(n)))
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_settings(load_settings(data_dir=tmp, llm="none"))
        await engine.start()
        try:
            raw_unsorted = raw_rate(engine, texts, ordered=False)
            raw_sorted = raw_rate(engine, texts, ordered=True)
            batch_rate = await batches(engine, texts, batch)
            single_rate = await singles(engine, [f"{t} (again)" for t in texts], concurrent)
            raw_after = raw_rate(engine, texts, ordered=True)
        finally:
            await engine.stop()
        disk = disk_mb(tmp)
    baseline = (raw_sorted + raw_after) / 2
    return {"benchmark": "ingest", "memories": 2 * len(texts), "batch": batch,
            "concurrent": concurrent, "batch_ingest_per_s": batch_rate,
            "single_ingest_per_s": single_rate,
            "baseline_embed_unsorted_per_s": raw_unsorted,
            "baseline_embed_sorted_per_s": [raw_sorted, raw_after],
            "ratio_batch_vs_sorted_embed": round(batch_rate / baseline, 3),
            "ratio_single_vs_sorted_embed": round(single_rate / baseline, 3),
            "disk_mb_per_10k": round(disk / (2 * len(texts)) * 10_000, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "machine": state()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="distinct texts [2000]")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=32,
                        help="clients adding one memory at a time [32]")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.batch, args.concurrent))))
