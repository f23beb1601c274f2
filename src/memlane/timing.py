"""Phase timing for pipelines: `phases.mark("retrieval")` records the time since the last
mark; `phases.ms` is what Done events and analytics report."""
from __future__ import annotations

import time


class Phases:
    def __init__(self) -> None:
        self.start = self._last = time.perf_counter()
        self.ms: dict[str, float] = {}

    def mark(self, name: str) -> float:
        now = time.perf_counter()
        self.ms[name] = round(self.ms.get(name, 0.0) + (now - self._last) * 1000, 2)
        self._last = now
        return self.ms[name]

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
