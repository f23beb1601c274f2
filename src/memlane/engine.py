"""The engine: one object that owns the store and the models and offers every capability.
Doors (REST, CLI, later WebSocket and MCP) hold an Engine and call it."""
from __future__ import annotations

import logging
import time

from .accounts import Accounts
from .config import Settings
from .memory.retrieval import Retriever, SearchOutcome
from .memory.service import MemoryService
from .models import create
from .models.runner import ModelRunner
from .schemas import SearchQuery
from .store.base import Store

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner):
        self.settings, self.store, self.models = settings, store, models
        self.accounts = Accounts(store)
        self.memories = MemoryService(settings, store, models)
        self.retriever = Retriever(settings, store, models)
        self.started_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        """Build every part by its registry name. Loads models; opens nothing yet."""
        store = create("store", settings.store, settings)
        models = ModelRunner(create("embedder", settings.embedder, settings),
                             create("nlp", settings.nlp, settings))
        return cls(settings, store, models)

    async def start(self) -> None:
        await self.store.open()
        await self.accounts.ensure_local_user()
        await self.models.warm_up()
        self.started_at = time.time()
        log.info("engine started: store=%s models=%s", self.store.name, self.models.warm)

    async def stop(self) -> None:
        await self.store.close()

    async def search(self, user_id: str, query: SearchQuery) -> SearchOutcome:
        return await self.retriever.search(user_id, query)

    async def entities(self, user_id: str, query: str | None = None, limit: int = 100,
                       offset: int = 0):
        return await self.store.list_entities(user_id, query=query, limit=limit, offset=offset)

    async def health(self) -> dict:
        database = await self._ping()
        return {"status": "ok" if database and self.models.warm else "degraded",
                "database": {"kind": self.store.name, "reachable": database},
                "models": self.models.info(),
                "uptime_s": round(time.time() - self.started_at, 1) if self.started_at else 0}

    async def _ping(self) -> bool:
        try:
            return await self.store.ping()
        except Exception:  # health reports, never raises
            log.exception("database ping failed")
            return False
