"""Requests waiting for one model share its calls; a query goes before waiting ingest."""
import asyncio
import threading

import pytest

from memlane.models.turns import Turns
from memlane.timing import Tally


class Model:
    """Upper-cases texts; each call blocks until released, and is recorded."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.gate = threading.Event()

    def __call__(self, texts):
        self.gate.wait(5)
        self.calls.append(list(texts))
        if "boom" in texts:
            raise ValueError("model failed")
        return [t.upper() for t in texts]


def turns(model, budget=100):
    return Turns("m", model, len, budget, Tally())


@pytest.mark.anyio
async def test_waiting_requests_share_one_call_and_each_gets_its_own_answers():
    model = Model()
    t = turns(model)
    first = asyncio.create_task(t.run(["a"]))
    await asyncio.sleep(0.05)  # the first call holds the model
    waiting = [asyncio.create_task(t.run([f"x{i}", f"y{i}"])) for i in range(10)]
    await asyncio.sleep(0.05)
    model.gate.set()
    assert await first == ["A"]
    assert [await w for w in waiting] == [[f"X{i}", f"Y{i}"] for i in range(10)]
    assert len(model.calls) == 2 and sorted(model.calls[1]) == sorted(
        t for i in range(10) for t in (f"x{i}", f"y{i}"))


@pytest.mark.anyio
async def test_a_call_holds_at_most_the_budget_and_urgent_requests_go_first():
    model = Model()
    t = turns(model, budget=10)
    first = asyncio.create_task(t.run(["held"]))
    await asyncio.sleep(0.05)
    ingest = [asyncio.create_task(t.run(["i" * 6])) for _ in range(3)]
    query = asyncio.create_task(t.run(["query"], urgent=True))
    await asyncio.sleep(0.05)
    model.gate.set()
    await asyncio.gather(first, query, *ingest)
    assert model.calls[1] == ["query"]  # the query, and no 6-char text fits beside it
    assert all(sum(map(len, call)) <= 10 or len(call) == 1 for call in model.calls)
    assert len(model.calls) == 5


@pytest.mark.anyio
async def test_a_failed_call_fails_its_requests_and_the_next_ones_still_run():
    model = Model()
    model.gate.set()
    t = turns(model, budget=2)
    with pytest.raises(ValueError):
        await t.run(["boom"])
    assert await t.run(["ok"]) == ["OK"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_a_stream_of_urgent_requests_does_not_starve_the_others():
    model = Model()
    t = turns(model, budget=10)
    first = asyncio.create_task(t.run(["held"]))
    await asyncio.sleep(0.05)
    ingest = asyncio.create_task(t.run(["ingest"]))
    queries = [asyncio.create_task(t.run([f"q{i}"], urgent=True)) for i in range(20)]
    await asyncio.sleep(0.05)
    model.gate.set()
    await asyncio.gather(first, ingest, *queries)
    assert "ingest" in model.calls[1]  # beside the first queries, not after all twenty
    assert model.calls[1][0].startswith("q")
