"""Hybrid ranking: one score per memory from normalised signals, with its reasons.

Query signals say how well a memory matches this query (keyword, vector, entity, time);
priors say how much to trust it at all (reliability, recency, frequency). A memory told
right next to a strong hit (its neighbour) scores at least ``neighbour_decay`` x that hit's
score, so the rest of an exchange comes up with it but never above it.
``fusion="weighted"`` mixes the signal values; ``"rrf"`` replaces each query signal by its
reciprocal rank among the candidates, which ignores the signals' differing scales."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from ..domain import Hit, Memory
from .query import QueryAnalysis

QUERY_SIGNALS = ("keyword", "vector", "entity", "time")


@dataclass
class Ranked:
    memory: Memory
    score: float
    reasons: dict = field(default_factory=dict)


@dataclass
class RankParams:
    weights: dict[str, float]
    adaptive: bool = True
    threshold: float = 0.25
    half_life_days: float = 30.0
    fusion: str = "weighted"
    rrf_k: int = 60
    neighbour_decay: float = 0.8
    emotion: str | None = None  # the query's emotion: matching memories are boosted
    emotion_boost: float = 0.3


def weights_for(base: dict[str, float], analysis: QueryAnalysis, adaptive: bool,
                present: set[str]) -> dict[str, float]:
    """The settings' weights, without the query signals this query cannot have, and, when
    adaptive, tilted by the kind of query."""
    w = {k: (v if k not in QUERY_SIGNALS or k in present else 0.0) for k, v in base.items()}
    if not analysis.keywords:
        w["keyword"] = 0.0
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
         analysis: QueryAnalysis, p: RankParams, now: datetime,
         explained: int | None = None) -> list[Ranked]:
    """Every relevant candidate, best first; the first ``explained`` (None: all) carry
    their reasons (building them costs more than the scoring)."""
    found = _found_by(hits)
    candidates = {mid: memories[mid] for mid in found if mid in memories}
    values = _query_signals(hits, candidates, cosines, analysis)
    lifted = {h.memory_id: h.score for h in hits.get("neighbour", [])}
    kept = {mid for mid in candidates if _relevant(mid, values, p.threshold) or mid in lifted}
    if p.fusion == "rrf":
        values = {name: _reciprocal_ranks(v, kept, p.rrf_k) for name, v in values.items()}
    present = {name for name, v in values.items() if any(v.get(mid) for mid in kept)}
    weights = weights_for(p.weights, analysis, p.adaptive, present)
    total_w = sum(weights.values()) or 1.0
    scored = []
    for mid in kept:
        memory = candidates[mid]
        signals = {name: values[name].get(mid, 0.0) for name in QUERY_SIGNALS}
        signals.update(_priors(memory, now, p.half_life_days))
        score = sum(weights[k] * v for k, v in signals.items()) / total_w
        score = max(score, p.neighbour_decay * lifted.get(mid, 0.0))
        boost = _emotion_factor(memory, p)
        scored.append((round(score * boost, 6), signals, boost, memory))
    scored.sort(key=lambda s: (-s[0], -s[1]["vector"], s[3].created_at, s[3].id))
    shown = len(scored) if explained is None else explained
    return [Ranked(memory, score, _reasons(found[memory.id], signals, lifted.get(memory.id, 0.0),
                                           boost, weights, total_w) if i < shown else {})
            for i, (score, signals, boost, memory) in enumerate(scored)]


def _reasons(strategies: set[str], signals: dict[str, float], lifted: float, boost: float,
             weights: dict[str, float], total_w: float) -> dict:
    return {"strategies": sorted(strategies),
            "signals": {k: round(v, 4) for k, v in signals.items()},
            "neighbour_of_score": round(lifted, 4), "emotion_boost": round(boost, 4),
            "weights": {k: round(v / total_w, 4) for k, v in weights.items()}}


def _emotion_factor(memory: Memory, p: RankParams) -> float:
    """SPEC D: relevance x (1 + importance x boost) when the memory's emotion matches."""
    if p.emotion and p.emotion != "neutral" and memory.emotion == p.emotion:
        return 1.0 + memory.importance * p.emotion_boost
    return 1.0


def _query_signals(hits, candidates, cosines, analysis) -> dict[str, dict[str, float]]:
    time_range = analysis.time_range
    return {
        "keyword": _normalised(hits.get("keyword", [])),
        "vector": {mid: max(0.0, cosines.get(mid, 0.0)) for mid in candidates},
        "entity": _normalised(hits.get("graph", [])),
        "time": {mid: 1.0 for mid, m in candidates.items()
                 if time_range and _within(m.event_time, time_range)},
    }


def _priors(memory: Memory, now: datetime, half_life_days: float) -> dict[str, float]:
    age_days = max(0.0, (now - memory.event_time).total_seconds() / 86400)
    return {"reliability": memory.confidence,
            "recency": 0.5 ** (age_days / half_life_days),
            "frequency": min(1.0, math.log1p(memory.access_count) / math.log1p(100))}


def _within(when: datetime, time_range) -> bool:
    return ((time_range.since is None or when >= time_range.since)
            and (time_range.until is None or when < time_range.until))


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


def _reciprocal_ranks(values: dict[str, float], kept: set[str], k: int) -> dict[str, float]:
    """1.0 for the best candidate, (k+1)/(k+r) for the r-th; 0 where the signal is 0."""
    order = sorted((mid for mid in kept if values.get(mid, 0) > 0),
                   key=lambda mid: values[mid], reverse=True)
    return {mid: (k + 1) / (k + r) for r, mid in enumerate(order, start=1)}


def _relevant(mid: str, values: dict[str, dict[str, float]], threshold: float) -> bool:
    """A hit must match the query: by words, by an entity, or by meaning above threshold."""
    return (values["keyword"].get(mid, 0) > 0 or values["entity"].get(mid, 0) > 0
            or values["vector"].get(mid, 0) >= threshold)
