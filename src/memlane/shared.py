"""State that every process serving one database must agree on (rate-limit buckets,
sign-in failures). One process (SQLite) keeps it in memory; replicas on a shared store
(PostgreSQL) keep it in the store, so a key's budget is the same whichever one it hits.
Values are small JSON values with an expiry; an update is atomic per key."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from .store.base import Store

Update = Callable[[Any], tuple[Any, Any]]  # old value (None: none) -> (new value, answer)


class State(Protocol):
    async def update(self, key: str, fn: Update, *, ttl_s: float) -> Any: ...


class LocalState:
    """In this process's memory; at most ``max_keys`` (least recently used go first)."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.max_keys, self.clock = max_keys, clock
        self._values: OrderedDict[str, tuple[Any, float]] = OrderedDict()  # value, expiry

    def __len__(self) -> int:
        return len(self._values)

    async def update(self, key: str, fn: Update, *, ttl_s: float) -> Any:
        now = self.clock()
        value, expires = self._values.get(key, (None, now))
        new, answer = fn(value if expires > now else None)
        if new is None:
            self._values.pop(key, None)
            return answer
        self._values[key] = (new, now + ttl_s)
        self._values.move_to_end(key)
        while len(self._values) > self.max_keys:
            self._values.popitem(last=False)
        return answer


class StoreState:
    """In the store, shared by every replica on it."""

    def __init__(self, store: Store):
        self.store = store

    async def update(self, key: str, fn: Update, *, ttl_s: float) -> Any:
        return await self.store.update_state(key, fn, ttl_s=ttl_s)


def state_for(store: Store, max_keys: int = 100_000) -> State:
    return StoreState(store) if store.shared else LocalState(max_keys)
