"""One model, many requests: the texts of every request waiting for the model go to it in
one call (up to a budget), so twenty clients adding one memory each cost one batch, not
twenty calls. Urgent requests (a search's query) go first, in at most half of a call while
others wait; each call runs in a thread, one at a time, and the model is let go between
calls."""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..timing import Tally


@dataclass
class _Request:
    texts: list[str]
    future: asyncio.Future
    cost: int = field(default=0)


class Turns:
    def __init__(self, name: str, call: Callable[[list[str]], Sequence[Any]],
                 cost: Callable[[str], int], budget: int, tally: Tally):
        self.name, self.call, self.cost, self.budget = name, call, cost, budget
        self.tally = tally
        self._urgent: deque[_Request] = deque()
        self._queue: deque[_Request] = deque()
        self._worker: asyncio.Task | None = None

    async def run(self, texts: list[str], *, urgent: bool = False) -> list[Any]:
        """The model's outputs for ``texts``, in order."""
        if not texts:
            return []
        request = _Request(list(texts), asyncio.get_running_loop().create_future(),
                           sum(map(self.cost, texts)))
        (self._urgent if urgent else self._queue).append(request)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"memlane-{self.name}")
        return await request.future

    async def _work(self) -> None:
        while self._urgent or self._queue:
            batch = self._take()
            texts = [t for r in batch for t in r.texts]
            order = sorted(range(len(texts)), key=lambda i: self.cost(texts[i]))
            try:  # shortest first: a batch is padded to its longest text
                out = await self.tally.timed(self.name, asyncio.to_thread(
                    self.call, [texts[i] for i in order]))
            except Exception as exc:
                for r in batch:
                    if not r.future.done():
                        r.future.set_exception(exc)
                continue
            results: list[Any] = [None] * len(texts)
            for row, i in enumerate(order):
                results[i] = out[row]
            start = 0
            for r in batch:
                if not r.future.done():
                    r.future.set_result(results[start:start + len(r.texts)])
                start += len(r.texts)
            await asyncio.sleep(0)

    def _take(self) -> list[_Request]:
        """Up to the budget (one request at least): urgent requests first, but at most half
        of it while others wait, so neither kind starves the other."""
        batch: list[_Request] = []
        spent = 0
        for queue, share in ((self._urgent, self.budget // 2 if self._queue else self.budget),
                             (self._queue, self.budget), (self._urgent, self.budget)):
            while queue and (not batch or spent + queue[0].cost <= share):
                request = queue.popleft()
                batch.append(request)
                spent += request.cost
        return batch
