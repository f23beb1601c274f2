"""Retrieval: analyse the query, run five strategies concurrently (each failing soft),
then rank. Every strategy is scoped to the user inside the store, before ranking."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..config import Settings
from ..domain import Hit, MemoryFilter, MemoryType, utcnow
from ..models.runner import ModelRunner
from ..schemas import SearchQuery
from ..store.base import Store
from ..timing import Phases
from .access import Accesses
from .query import QueryAnalysis, analyse
from .ranking import Ranked, RankParams, rank

log = logging.getLogger(__name__)
STRATEGIES = ("vector", "keyword", "graph", "profile", "recent")


@dataclass
class SearchOutcome:
    results: list[Ranked]
    analysis: QueryAnalysis
    strategies: dict[str, dict] = field(default_factory=dict)  # status, ms, hits per strategy
    phases: Phases = field(default_factory=Phases)

    @property
    def timings_ms(self) -> dict[str, float]:
        return self.phases.total()


class Retriever:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner):
        self.settings, self.store, self.models = settings, store, models
        self.accesses = Accesses(store)

    @staticmethod
    def analyse(query: str, now: datetime | None = None) -> QueryAnalysis:
        return analyse(query, now or utcnow())

    async def search(self, user_id: str, q: SearchQuery, now: datetime | None = None,
                     phases: Phases | None = None) -> SearchOutcome:
        """``phases``: the caller's run to time the search's phases in (else its own)."""
        now, phases = now or utcnow(), phases or Phases()
        with phases.span("query_analysis"):
            analysis = self.analyse(q.query, now)
        flt = self._filter(q, analysis)
        # the store's other strategies run while the model embeds the query
        embedding = asyncio.ensure_future(self.models.embed_query(q.query))
        hits, status = await self._run_strategies(user_id, analysis, embedding, flt, phases)
        vector = await embedding  # a model failure fails the search, as it always did
        with phases.span("ranking"):
            results = await self._ranked(user_id, q, hits, vector, analysis, now)
        return SearchOutcome(results, analysis, status, phases)

    async def _ranked(self, user_id: str, q: SearchQuery, hits: dict[str, list[Hit]],
                      vector, analysis: QueryAnalysis, now: datetime) -> list[Ranked]:
        memories: dict = {}
        cosines = {h.memory_id: h.score for h in hits.get("vector", [])}
        limit = min(q.limit, self.settings.max_search_limit)
        ranked = await self._rank(user_id, hits, memories, cosines, vector, analysis, now,
                                  q.emotion, limit)
        if self.settings.neighbour_window > 0 and ranked:
            hits["neighbour"] = await self._neighbour_hits(user_id, ranked)
        if hits.get("neighbour"):
            ranked = await self._rank(user_id, hits, memories, cosines, vector, analysis, now,
                                      q.emotion, limit)
        results = ranked[:limit]
        if results and self.settings.record_access:
            self.accesses.note(user_id, [r.memory.id for r in results], now)
        return results

    async def _rank(self, user_id, hits, memories, cosines, vector, analysis, now,
                    emotion: str | None, limit: int) -> list[Ranked]:
        """Rank every candidate found so far, fetching what is not yet known of them."""
        ids = list({h.memory_id for strategy_hits in hits.values() for h in strategy_hits})
        unread = [i for i in ids if i not in memories]
        unscored = [i for i in ids if i not in cosines]
        read, scored = await asyncio.gather(
            self.store.get_memories(user_id, unread),
            self.store.vector_scores(user_id, vector, unscored) if unscored else _nothing())
        memories.update(read)
        cosines.update(scored)
        s = self.settings
        params = RankParams(s.ranking_weights, s.adaptive_weights, s.relevance_threshold,
                            s.recency_half_life_days, s.fusion, s.rrf_k, s.neighbour_decay,
                            emotion, s.emotion_boost)
        return rank(hits, memories, cosines, analysis, params, now, explained=limit)

    async def _neighbour_hits(self, user_id: str, ranked: list[Ranked]) -> list[Hit]:
        """Memories told just before or after the top hits (the rest of that exchange),
        carrying that hit's score."""
        top = ranked[:self.settings.neighbour_top]
        found = await self.store.neighbours(
            user_id, [r.memory.id for r in top], window=self.settings.neighbour_window,
            max_gap_s=self.settings.neighbour_max_gap_hours * 3600)
        scores: dict[str, float] = {}
        for r in top:
            for mid in found.get(r.memory.id, []):
                scores[mid] = max(scores.get(mid, 0.0), r.score)
        return [Hit(mid, score) for mid, score in scores.items()]

    def _filter(self, q: SearchQuery, analysis: QueryAnalysis) -> MemoryFilter:
        """Explicit filters are hard; time words in the query filter only in "filter"
        time mode (in "boost" mode they lift memories in range instead)."""
        f = q.filters
        since, until = (f.since, f.until) if f else (None, None)
        if (since is None and until is None and analysis.time_range
                and self.settings.time_mode == "filter"):
            since, until = analysis.time_range.since, analysis.time_range.until
        return MemoryFilter(types=q.types, since=since, until=until,
                            metadata=f.metadata if f else None, entity=f.entity if f else None)

    async def _run_strategies(self, user_id, analysis, vector, flt, phases: Phases):
        limit = self.settings.strategy_limit
        jobs = {
            "vector": self._vector(user_id, vector, flt, limit),
            "keyword": self.store.keyword_search(user_id, analysis.keywords, flt, limit),
            "graph": self.store.entity_search(user_id, analysis.entity_candidates, flt, limit),
            "profile": self._typed(user_id, flt, MemoryType.profile, self.settings.profile_limit),
            "recent": self._typed(user_id, flt, MemoryType.episodic, self.settings.recent_limit),
        }
        outcomes = await asyncio.gather(*(self._timed(phases, n, c) for n, c in jobs.items()))
        hits = {name: h for name, h, _ in outcomes if h is not None}
        return hits, {name: info for name, _, info in outcomes}

    async def _vector(self, user_id: str, embedding: asyncio.Future, flt: MemoryFilter,
                      limit: int) -> list[Hit]:
        return await self.store.vector_search(user_id, await asyncio.shield(embedding), flt,
                                              limit)

    async def _timed(self, phases: Phases, name: str, coro):
        with phases.span(f"retrieval_{name}"):
            try:
                hits = await asyncio.wait_for(coro, self.settings.strategy_timeout_s)
                status = "ok"
            except Exception as exc:  # a failed strategy is logged and skipped
                log.warning("retrieval strategy %s failed: %r", name, exc)
                hits, status = None, "failed"
        phases.hits[name] = len(hits or [])
        return name, hits, {"status": status, "ms": phases.ms[f"retrieval_{name}"],
                            "hits": phases.hits[name]}

    async def _typed(self, user_id: str, flt: MemoryFilter, kind: MemoryType,
                     limit: int) -> list[Hit]:
        if flt.types and kind not in flt.types:
            return []
        memories, _ = await self.store.list_memories(user_id, replace(flt, types=[kind]),
                                                     limit=limit)
        return [Hit(m.id, 1.0 / (i + 1)) for i, m in enumerate(memories)]


async def _nothing() -> dict:
    return {}
