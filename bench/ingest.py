"""Ingest throughput of the engine (NLP + chunking + embedding + one transaction per memory)
against the raw embedder on the same texts in the same run."""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

from machine import sample_texts, state
from memlane.config import load_settings
from memlane.engine import Engine
from memlane.schemas import MemoryCreate


async def main(n: int, batch: int) -> dict:
    texts = list(dict.fromkeys(sample_texts(n)))
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_settings(load_settings(data_dir=tmp, llm="none"))
        await engine.start()
        start = time.perf_counter()
        engine.models.embedder.embed(texts)
        embed_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            items = [MemoryCreate(text=t, type="episodic") for t in texts[i:i + batch]]
            await engine.memories.add_many("local", items)
        ingest_s = time.perf_counter() - start
        await engine.stop()
    return {"benchmark": "ingest", "memories": len(texts), "batch": batch,
            "ingest_per_s": round(len(texts) / ingest_s, 1),
            "baseline_embed_only_per_s": round(len(texts) / embed_s, 1),
            "ratio_ingest_vs_embed": round(embed_s / ingest_s, 3), "machine": state()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.batch))))
