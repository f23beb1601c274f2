"""Runs CPU-bound model calls in threads, one call per model at a time (2 cores), the
texts of concurrent requests in shared calls (models/turns.py), queries first.

Work is handed to a model in bounded turns (NLP: pieces of at most ``piece_chars``, a few
at a time; embeddings: about ``group_tokens`` tokens, each distinct text once), and the
model is let go between turns, so a long ingest delays a concurrent search by one turn at
most. A text whose NLP has taken ``nlp_budget_s`` gets its other pieces split by pattern."""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import numpy as np

from ..timing import Tally
from . import pieces
from .embedder import Embedder
from .nlp import NLP, Parsed
from .turns import Turns

_TOKEN = re.compile(r"\w+|[^\w\s]")


class ModelRunner:
    def __init__(self, embedder: Embedder, nlp: NLP, *, piece_chars: int = 1000,
                 group_chars: int = 1000, group_tokens: int = 256, nlp_budget_s: float = 5.0):
        self.embedder, self.nlp = embedder, nlp
        self.piece_chars, self.group_chars = piece_chars, group_chars
        self.group_tokens = group_tokens
        self.nlp_budget_s = nlp_budget_s
        self.warm: dict[str, float] = {}
        self.tally = Tally()
        self._embedder = Turns("embedder", self._vectors, _tokens, group_tokens, self.tally)
        self._nlp = Turns("nlp", nlp.parse, len, group_chars, self.tally)

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Each distinct text once, shortest first in turns of about ``group_tokens`` tokens
        (a batch is padded to its longest text: sorted, little is padding)."""
        if not texts:
            return self.embedder.embed([])
        unique = sorted(dict.fromkeys(texts), key=_tokens)
        costs = [_tokens(t) for t in unique]
        if len(unique) <= 1 or sum(costs) <= self.group_tokens:
            vectors = await self._embed(unique)
        else:
            vectors = np.vstack([await self._embed(unique[i:j])
                                 for i, j in _groups(costs, self.group_tokens)])
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    async def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(await self._embedder.run(texts), dtype=np.float32).reshape(
            len(texts), -1)

    async def embed_query(self, text: str) -> np.ndarray:
        cached = self.embedder.cached(text)
        if cached is not None:
            return cached
        vector = (await self._embedder.run([text], urgent=True))[0]
        self.embedder.remember(text, vector)
        return vector

    def _vectors(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.embedder.embed(texts))

    async def parse(self, texts: list[str]) -> list[Parsed]:
        work = [(n, offset, piece) for n, text in enumerate(texts)
                for offset, piece in pieces.split(text, self.piece_chars)]
        done: list[list[tuple[int, Parsed]]] = [[] for _ in texts]
        started: dict[int, float] = {}
        for i, j in _groups([len(piece) for _, _, piece in work], self.group_chars):
            group = work[i:j]
            for n, _, _ in group:
                started.setdefault(n, time.monotonic())
            fresh = [k for k, (n, _, _) in enumerate(group)
                     if time.monotonic() - started[n] <= self.nlp_budget_s]
            parsed = dict(zip(fresh, await self._parse([group[k][2] for k in fresh])))
            for k, (n, offset, piece) in enumerate(group):
                done[n].append((offset, parsed[k] if k in parsed else pieces.rough(piece)))
        return [pieces.merge(parts) for parts in done]

    async def _parse(self, texts: list[str]) -> list[Parsed]:
        return await self._nlp.run(texts)

    async def warm_up(self) -> None:
        for name, model in (("embedder", self.embedder), ("nlp", self.nlp)):
            start = time.perf_counter()
            await asyncio.to_thread(model.warm_up)
            self.warm[name] = round(time.perf_counter() - start, 3)

    def info(self) -> dict:
        return {name: {**model.info(), "loaded": name in self.warm}
                for name, model in (("embedder", self.embedder), ("nlp", self.nlp))}


def _groups(costs: list[int], budget: int) -> Iterator[tuple[int, int]]:
    """(start, end) ranges of consecutive items costing at most ``budget`` together (or
    one item alone)."""
    start, spent = 0, 0
    for i, cost in enumerate(costs):
        if i > start and spent + cost > budget:
            yield start, i
            start, spent = i, 0
        spent += cost
    if start < len(costs):
        yield start, len(costs)


def _tokens(text: str, most: int = 256) -> int:
    """About how many tokens an embedder sees (words and marks, up to its window)."""
    return min(most, len(_TOKEN.findall(text, 0, most * 8)) + 1)
