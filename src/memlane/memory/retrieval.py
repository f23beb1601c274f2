"""Retrieval: analyse the query, run five strategies concurrently (each failing soft),
then rank. Every strategy is scoped to the user inside the store, before ranking."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..config import Settings
from ..domain import Hit, MemoryFilter, MemoryType, utcnow
from ..models.runner import ModelRunner
from ..schemas import SearchQuery
from ..store.base import Store
from .query import QueryAnalysis, analyse
from .ranking import Ranked, rank

log = logging.getLogger(__name__)
STRATEGIES = ("vector", "keyword", "graph", "profile", "recent")


@dataclass
class SearchOutcome:
    results: list[Ranked]
    analysis: QueryAnalysis
    strategies: dict[str, dict] = field(default_factory=dict)  # status and ms per strategy
    timings_ms: dict[str, float] = field(default_factory=dict)


class Retriever:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner):
        self.settings, self.store, self.models = settings, store, models

    async def analyse(self, query: str, now: datetime | None = None) -> QueryAnalysis:
        parsed = (await self.models.parse([query]))[0]
        return analyse(query, parsed, now or utcnow())

    async def search(self, user_id: str, q: SearchQuery,
                     now: datetime | None = None) -> SearchOutcome:
        now = now or utcnow()
        t0 = time.perf_counter()
        analysis, vector = await asyncio.gather(self.analyse(q.query, now),
                                                self.models.embed_query(q.query))
        t1 = time.perf_counter()
        flt = self._filter(q, analysis)
        hits, status = await self._run_strategies(user_id, analysis, vector, flt)
        t2 = time.perf_counter()
        ids = list({h.memory_id for strategy_hits in hits.values() for h in strategy_hits})
        memories = await self.store.get_memories(user_id, ids)
        cosines = {h.memory_id: h.score for h in hits.get("vector", [])}
        missing = [i for i in ids if i not in cosines]
        if missing:
            cosines.update(await self.store.vector_scores(user_id, vector, missing))
        s = self.settings
        ranked = rank(hits, memories, cosines, analysis, s.ranking_weights,
                      adaptive=s.adaptive_weights, threshold=s.relevance_threshold,
                      half_life_days=s.recency_half_life_days, now=now)
        results = ranked[:min(q.limit, s.max_search_limit)]
        if results:
            await self.store.record_access(user_id, [r.memory.id for r in results], now)
        t3 = time.perf_counter()
        timings = {"analysis": t1 - t0, "strategies": t2 - t1, "ranking": t3 - t2}
        return SearchOutcome(results, analysis, status,
                             {k: round(v * 1000, 2) for k, v in timings.items()})

    def _filter(self, q: SearchQuery, analysis: QueryAnalysis) -> MemoryFilter:
        f = q.filters
        since, until = (f.since, f.until) if f else (None, None)
        if since is None and until is None and analysis.time_range:
            since, until = analysis.time_range.since, analysis.time_range.until
        return MemoryFilter(types=q.types, since=since, until=until,
                            metadata=f.metadata if f else None, entity=f.entity if f else None)

    async def _run_strategies(self, user_id, analysis, vector, flt):
        limit = self.settings.strategy_limit
        jobs = {
            "vector": self.store.vector_search(user_id, vector, flt, limit),
            "keyword": self.store.keyword_search(user_id, analysis.keywords, flt, limit),
            "graph": self.store.entity_search(user_id, analysis.entity_candidates, flt, limit),
            "profile": self._typed(user_id, flt, MemoryType.profile, self.settings.profile_limit),
            "recent": self._typed(user_id, flt, MemoryType.episodic, self.settings.recent_limit),
        }
        outcomes = await asyncio.gather(*(self._timed(n, c) for n, c in jobs.items()))
        hits = {name: h for name, h, _ in outcomes if h is not None}
        return hits, {name: info for name, _, info in outcomes}

    async def _timed(self, name: str, coro):
        start = time.perf_counter()
        try:
            hits = await asyncio.wait_for(coro, self.settings.strategy_timeout_s)
            status = "ok"
        except Exception as exc:  # a failed strategy is logged and skipped
            log.warning("retrieval strategy %s failed: %r", name, exc)
            hits, status = None, "failed"
        ms = round((time.perf_counter() - start) * 1000, 2)
        return name, hits, {"status": status, "ms": ms, "hits": len(hits or [])}

    async def _typed(self, user_id: str, flt: MemoryFilter, kind: MemoryType,
                     limit: int) -> list[Hit]:
        if flt.types and kind not in flt.types:
            return []
        memories, _ = await self.store.list_memories(user_id, replace(flt, types=[kind]),
                                                     limit=limit)
        return [Hit(m.id, 1.0 / (i + 1)) for i, m in enumerate(memories)]
