"""The engine: one object that owns the store and the models and offers every capability.
Doors (REST, /v1, CLI, later WebSocket and MCP) hold an Engine and call it."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from pydantic import ValidationError

from .accounts import Accounts
from .analytics.recorder import Recorder
from .analytics.retention import PRUNE_JOB, Retention
from .chat.agents import load_agents
from .chat.ask import Asker
from .chat.grounding import guarded
from .chat.recall import Recall, recall
from .chat.service import Conversations
from .chat.threads import Threads
from .chat.turn import Turns
from .config import Settings
from .domain import Job, Memory, MemoryType, Source
from .emotion.reading import EmotionReading
from .emotion.service import Emotions
from .errors import Invalid
from .importers.service import Importer
from .jobs import Jobs
from .memory.extraction import Extractor
from .memory.retrieval import Retriever, SearchOutcome
from .memory.service import MemoryService, first_error
from .memory.summarize import Summariser
from .models import create
from .models.llm import LLM, Delta
from .models.runner import ModelRunner
from .schemas import MemoryCreate, SearchQuery
from .store.base import Store
from .timing import Phases
from .voice.assistant import VoiceAssistant, hear
from .voice.models import VoiceModels
from .voice.transcriber import TranscriptEvent

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner, llm: LLM, *,
                 emotions: Emotions | None = None, voice: VoiceModels | None = None,
                 owns_llm: bool = False):
        """``owns_llm``: release the LLM at stop (a shared one, as in tests, stays).
        ``emotions``: default, the settings' detector over ``models``. ``voice``: the speech
        models; None serves without the voice doors."""
        self.settings, self.store, self.models, self.llm = settings, store, models, llm
        emotions = emotions or Emotions(models, create("emotion", settings.emotion, settings))
        self.emotions, self.voice, self.owns_llm = emotions, voice, owns_llm
        self.accounts = Accounts(store, settings)
        self.memories = MemoryService(settings, store, models, emotions)
        self.retriever = Retriever(settings, store, models)
        self.analytics = Recorder(settings, store)
        self.asker = Asker(settings, self.retriever, llm, self.analytics)
        self.jobs = Jobs(store, enabled=settings.jobs_enabled,
                         max_attempts=settings.job_max_attempts,
                         heartbeat_s=settings.job_lease_s / 3)
        self.retention = Retention(settings, store, self.jobs)
        self.conversations = Conversations(settings, store, models, llm,
                                           load_agents(settings.agents_file))
        self.turns = Turns(settings, self.conversations, self.asker, llm, self.jobs, emotions,
                           self.analytics, self.memories, self.learn)
        self.assistant = (VoiceAssistant(voice, emotions, self.turns) if voice else None)
        self.extractor = Extractor(self.memories, store, models, llm)
        self.summariser = Summariser(store, llm, keep_recent=settings.working_memory)
        self.importer = Importer(self.memories, self.learn)
        self.threads = Threads(store)
        self.jobs.register("extract", self._extract_job)
        self.jobs.register("summarise", self._summarise_job)
        self.jobs.register(PRUNE_JOB, self.retention.prune)
        self.memories.after_add.append(self._extract_long_text)
        self.started_at: float | None = None
        self.llm_warm: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        """Build every part by its registry name. Loads models; opens nothing yet."""
        store = create("store", settings.store, settings)
        models = ModelRunner(create("embedder", settings.embedder, settings),
                             create("nlp", settings.nlp, settings),
                             piece_chars=settings.nlp_piece_chars,
                             nlp_budget_s=settings.nlp_budget_s)
        voice = (VoiceModels(create("stt", settings.stt, settings),
                             create("vad", settings.vad, settings),
                             create("tts", settings.tts, settings))
                 if settings.voice_enabled else None)
        return cls(settings, store, models, create("llm", settings.llm, settings),
                   voice=voice, owns_llm=True)

    async def start(self) -> None:
        await self.store.open()
        await self.accounts.ensure_local_user()
        await self.accounts.prepare_secret()
        await self.models.warm_up()
        await self.emotions.warm_up()
        if self.voice:
            await self.voice.warm_up()
        start = time.perf_counter()
        await asyncio.to_thread(self.llm.warm_up)
        self.llm_warm = round(time.perf_counter() - start, 3)
        await self.jobs.start()
        await self.analytics.start()
        await self.retention.start()
        self.started_at = time.time()
        log.info("engine started: store=%s models=%s llm=%.1fs", self.store.name,
                 self.models.warm, self.llm_warm)

    async def stop(self) -> None:
        await self.retention.stop()
        await self.jobs.stop()
        await self.analytics.stop()  # writes the buffered records while the store is open
        await self.retriever.accesses.settle()
        if self.owns_llm:
            self.llm.close()
        await self.store.close()

    async def search(self, user_id: str, query: SearchQuery) -> SearchOutcome:
        outcome = await self.retriever.search(user_id, query)
        self.analytics.record("search", user_id, outcome.timings_ms, outcome.phases.hits)
        return outcome

    async def recall(self, user_id: str, messages: list[dict[str, str]],
                     limit: int | None = None) -> Recall:
        """The memories an agent should see before its next turn in this conversation."""
        return await recall(self.asker, user_id, messages, limit=limit,
                            max_tokens=self.settings.llm_max_tokens)

    async def entities(self, user_id: str, query: str | None = None, limit: int = 100,
                       offset: int = 0):
        return await self.store.list_entities(user_id, query=query, limit=limit, offset=offset)

    async def health(self) -> dict:
        database = await self._ping()
        models = {**self.models.info(), "emotion": self.emotions.info(),
                  "llm": {**self.llm.info(), "loaded": self.llm_warm is not None},
                  **(self.voice.info() if self.voice else {})}
        jobs = await self.jobs.counts() if database else {}
        return {"status": "ok" if database and self.models.warm else "degraded",
                "database": {"kind": self.store.name, "reachable": database},
                "models": models, "jobs": jobs,
                "active_sessions": self.conversations.active_sessions(),
                "uptime_s": round(time.time() - self.started_at, 1) if self.started_at else 0}

    async def _ping(self) -> bool:
        try:
            return await self.store.ping()
        except Exception:  # health reports, never raises
            log.exception("database ping failed")
            return False

    async def hear(self, user_id: str, text: str, metadata: dict | None = None
                   ) -> Memory | None:
        """What the user told in a chat message, kept at once (findable by the next turn)
        and queued for fact extraction; None when it told nothing."""
        memory = await self.memories.keep_told(user_id, text, metadata or {})
        if memory is not None:
            await self.learn(user_id, memory)
        return memory

    async def completion(self, user_id: str, messages: list[dict[str, str]], *,
                         phases: Phases, door: str = "openai", **options: Any
                         ) -> AsyncIterator[Delta]:
        """An OpenAI-style completion (``options``: the LLM's) grounded on the user's
        memories: the memories go in the system message, a question about the user is
        answered only from them, and once the reply is made what the last user message
        states is kept (nothing is kept for a request that fails)."""
        said = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        prompt, items = await self.asker.augment(user_id, messages, phases=phases,
                                                 max_tokens=options["max_tokens"])
        deltas = guarded(self.llm.generate(prompt, **options), said, items,
                         [m["content"] for m in messages])
        return self._then_keep(deltas, user_id, said, door, phases)

    async def _then_keep(self, deltas: AsyncIterator[Delta], user_id: str, said: str,
                         door: str, phases: Phases) -> AsyncIterator[Delta]:
        async for delta in deltas:
            yield delta
        with phases.span("save_user"):
            await self.hear(user_id, said, {"source": door})

    async def learn(self, user_id: str, told: Memory) -> None:
        """Queue fact extraction from what the user told (when enabled)."""
        if self._extracting():
            await self.jobs.enqueue("extract", user_id, {
                "text": told.text, "memory_id": told.id,
                **{k: v for k, v in told.metadata.items() if k != "emotion"}})

    async def remember(self, user_id: str, told: list[str | TranscriptEvent], *,
                       type: str = "semantic", metadata: dict | None = None,
                       client_id: str | None = None
                       ) -> tuple[Memory, bool, EmotionReading]:
        """Store what was told in pieces (typed text, transcribed utterances) as one memory
        through the normal ingest path, with the emotion it was told with (its words, and
        its prosody when spoken). Source ``voice`` when any of it was said."""
        text = " ".join(t if isinstance(t, str) else t.text for t in told).strip()
        if not text:
            raise Invalid("nothing to remember: send audio or text first", param="commit")
        try:
            kind = MemoryType(type or "semantic")
        except ValueError:
            raise Invalid(f"unknown memory type {type!r}", param="type") from None
        said = [t.audio for t in told if not isinstance(t, str) and t.audio is not None]
        reading, _ = await hear(self.emotions, text, np.concatenate(said) if said else None)
        try:
            item = MemoryCreate(text=text, type=kind, client_id=client_id,
                                source=Source.voice if said else Source.typed,
                                metadata={**(metadata or {}), "emotion": reading.as_dict()},
                                emotion=reading.label,
                                importance=self.emotions.importance(text, reading))
        except ValidationError as exc:
            raise Invalid(first_error(exc), param=str(exc.errors()[0]["loc"][0])) from None
        return (*await self.memories.add(user_id, item), reading)

    def _extracting(self) -> bool:
        return self.settings.extraction_enabled and self.llm.generates

    # background jobs ----------------------------------------------------------------
    async def _extract_job(self, job: Job) -> dict:
        p = job.payload
        metadata = {k: v for k, v in p.items() if k not in ("text", "memory_id")}
        told_as = frozenset([p["memory_id"]]) if p.get("memory_id") else frozenset()
        decisions = await self.extractor.run(job.user_id, p["text"],
                                             {**metadata, "told_in": p.get("memory_id")},
                                             exclude=told_as)
        return {"decisions": [d.as_dict() for d in decisions]}

    async def _summarise_job(self, job: Job) -> dict:
        summary = await self.summariser.run(job.user_id, job.payload["conversation_id"])
        return {"summary_id": summary.id if summary else None}

    async def _extract_long_text(self, memory: Memory) -> None:
        s = self.settings
        if (self._extracting() and memory.source not in (Source.extraction, Source.chat,
                                                          Source.import_)
                and len(memory.text) >= s.extract_min_chars):
            await self.jobs.enqueue("extract", memory.user_id,
                                    {"text": memory.text, "memory_id": memory.id})
