"""Runs CPU-bound model calls in threads, one call per model at a time (2 cores)."""
from __future__ import annotations

import asyncio
import time

import numpy as np

from ..timing import Tally
from .embedder import Embedder
from .nlp import NLP, Parsed


class ModelRunner:
    def __init__(self, embedder: Embedder, nlp: NLP):
        self.embedder, self.nlp = embedder, nlp
        self._embed_lock = asyncio.Semaphore(1)
        self._nlp_lock = asyncio.Semaphore(1)
        self.warm: dict[str, float] = {}
        self.tally = Tally()

    async def embed(self, texts: list[str]) -> np.ndarray:
        async with self._embed_lock:
            return await self.tally.timed("embedder", asyncio.to_thread(self.embedder.embed,
                                                                        texts))

    async def embed_query(self, text: str) -> np.ndarray:
        async with self._embed_lock:
            return await self.tally.timed("embedder", asyncio.to_thread(
                self.embedder.embed_query, text))

    async def parse(self, texts: list[str]) -> list[Parsed]:
        async with self._nlp_lock:
            return await self.tally.timed("nlp", asyncio.to_thread(self.nlp.parse, texts))

    async def warm_up(self) -> None:
        for name, model in (("embedder", self.embedder), ("nlp", self.nlp)):
            start = time.perf_counter()
            await asyncio.to_thread(model.warm_up)
            self.warm[name] = round(time.perf_counter() - start, 3)

    def info(self) -> dict:
        return {name: {**model.info(), "loaded": name in self.warm}
                for name, model in (("embedder", self.embedder), ("nlp", self.nlp))}
