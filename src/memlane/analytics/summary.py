"""The summary of a window of records: per kind and phase the median and 95th percentile
duration, per retrieval strategy its hits, and token usage and estimated cost in total
and per conversation."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from ..domain import AnalyticsRecord


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarise(records: Sequence[AnalyticsRecord]) -> dict:
    return {"records": len(records), "kinds": dict(Counter(r.kind for r in records)),
            "phases": phases(records), "strategies": strategies(records),
            "usage": usage(records), "conversations": conversations(records)}


def phases(records: Sequence[AnalyticsRecord]) -> dict[str, dict[str, dict]]:
    """{kind: {phase: {count, p50_ms, p95_ms}}}: a chat turn's total is not a search's."""
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        for name, ms in r.phases.items():
            found[r.kind][name].append(ms)
    return {kind: {name: {"count": len(ms), "p50_ms": percentile(ms, 50),
                          "p95_ms": percentile(ms, 95)} for name, ms in sorted(by.items())}
            for kind, by in sorted(found.items())}


def strategies(records: Sequence[AnalyticsRecord]) -> dict[str, dict[str, int]]:
    """{strategy: {runs, hits, runs_with_hits}}."""
    out: dict[str, dict[str, int]] = {}
    for r in records:
        for name, hits in r.strategies.items():
            seen = out.setdefault(name, {"runs": 0, "hits": 0, "runs_with_hits": 0})
            seen["runs"] += 1
            seen["hits"] += hits
            seen["runs_with_hits"] += hits > 0
    return dict(sorted(out.items()))


def usage(records: Sequence[AnalyticsRecord]) -> dict:
    prompt = sum(r.prompt_tokens for r in records)
    completion = sum(r.completion_tokens for r in records)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": round(sum(r.cost for r in records), 6)}


def conversations(records: Sequence[AnalyticsRecord]) -> list[dict]:
    """Token usage and cost per conversation, the most recently active first."""
    turns: dict[str, list[AnalyticsRecord]] = defaultdict(list)
    for r in records:
        if r.conversation_id:
            turns[r.conversation_id].append(r)
    rows = [{"conversation_id": cid, "turns": len(rs), "last_at": max(r.at for r in rs),
             **usage(rs)} for cid, rs in turns.items()]
    return sorted(rows, key=lambda row: row["last_at"], reverse=True)
