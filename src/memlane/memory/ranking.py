"""Hybrid ranking: one score per memory from normalised signals, with its reasons."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from ..domain import Hit, Memory
from .query import QueryAnalysis

QUERY_SIGNALS = ("keyword", "vector", "entity")


@dataclass
class Ranked:
    memory: Memory
    score: float
    reasons: dict = field(default_factory=dict)


def weights_for(base: dict[str, float], analysis: QueryAnalysis, adaptive: bool,
                has_entities: bool) -> dict[str, float]:
    """The settings' weights, without the signals this query cannot have, and, when
    adaptive, tilted by the kind of query."""
    w = dict(base)
    if not analysis.keywords:
        w["keyword"] = 0.0
    if not has_entities:
        w["entity"] = 0.0
    if adaptive:
        if analysis.specific:
            w["keyword"] *= 1.5
        elif analysis.intent == "question":
            w["vector"] *= 1.3
        if analysis.time_range is not None:
            w["recency"] *= 0.3  # the range already says when; don't favour the newest
        elif analysis.intent == "recall":
            w["recency"] *= 1.5
    return w


def rank(hits: dict[str, list[Hit]], memories: dict[str, Memory], cosines: dict[str, float],
         analysis: QueryAnalysis, base_weights: dict[str, float], *, adaptive: bool,
         threshold: float, half_life_days: float, now: datetime) -> list[Ranked]:
    found = _found_by(hits)
    kw = _normalised(hits.get("keyword", []))
    ent = _normalised(hits.get("graph", []))
    weights = weights_for(base_weights, analysis, adaptive, bool(ent))
    total_w = sum(weights.values()) or 1.0
    ranked = []
    for memory_id, strategies in found.items():
        memory = memories.get(memory_id)
        if memory is None:
            continue
        signals = {
            "keyword": kw.get(memory_id, 0.0),
            "vector": max(0.0, cosines.get(memory_id, 0.0)),
            "entity": ent.get(memory_id, 0.0),
            "reliability": memory.confidence,
            "recency": _recency(memory, now, half_life_days),
            "frequency": min(1.0, math.log1p(memory.access_count) / math.log1p(100)),
        }
        if not _relevant(signals, threshold):
            continue
        score = sum(weights[k] * v for k, v in signals.items()) / total_w
        reasons = {"strategies": sorted(strategies),
                   "signals": {k: round(v, 4) for k, v in signals.items()},
                   "weights": {k: round(v / total_w, 4) for k, v in weights.items()}}
        ranked.append(Ranked(memory, round(score, 6), reasons))
    ranked.sort(key=lambda r: r.score, reverse=True)
    return ranked


def _found_by(hits: dict[str, list[Hit]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for strategy, strategy_hits in hits.items():
        for hit in strategy_hits:
            found.setdefault(hit.memory_id, set()).add(strategy)
    return found


def _normalised(hits: list[Hit]) -> dict[str, float]:
    best = max((h.score for h in hits), default=0.0)
    if best <= 0:
        return {}
    return {h.memory_id: max(0.0, h.score) / best for h in hits}


def _recency(memory: Memory, now: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (now - memory.event_time).total_seconds() / 86400)
    return 0.5 ** (age_days / half_life_days)


def _relevant(signals: dict[str, float], threshold: float) -> bool:
    """A hit must match the query: by words, by an entity, or by meaning above threshold."""
    return signals["keyword"] > 0 or signals["entity"] > 0 or signals["vector"] >= threshold
