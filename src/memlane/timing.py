"""Phase timing for pipelines: `with phases.span("context"):` adds the block's duration to
that phase; `phases.total()` is what Done events and analytics report."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    """The timings of one run (chat turn, ask, search), in ms. Spans may nest ("retrieval"
    holds "query_analysis", one "retrieval_<strategy>" per strategy, which run at once, and
    "ranking"); a span entered twice adds up. ``hits``: what each strategy found."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {}
        self.hits: dict[str, int] = {}

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            self.ms[name] = round(self.ms.get(name, 0.0) + elapsed, 2)

    def since_start(self, name: str) -> None:
        """Record a point in time measured from the start (time to first token)."""
        self.ms[name] = round((time.perf_counter() - self.start) * 1000, 2)

    def total(self) -> dict[str, float]:
        return {**self.ms, "total": round((time.perf_counter() - self.start) * 1000, 2)}


class Tally:
    """Calls and seconds per name (model inference times for /metrics)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    async def timed(self, name: str, work):
        """Await ``work`` (a coroutine), counting the call and its time under ``name``."""
        start = time.perf_counter()
        try:
            return await work
        finally:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
