"""Password guessing, slowed: failed sign-ins are counted per user name and per client
address (whatever else the request carries); past a limit, that name or address is locked
out for a while, and attempts meanwhile are refused without checking the password.
The counts live in ``state`` (memory by default; the store's when replicas share one)."""
from __future__ import annotations

import time

from .shared import LocalState, State


class Lockout:
    def __init__(self, per_name: int, per_address: int, lockout_s: float, clock=None,
                 max_entries: int = 10_000, state: State | None = None):
        self.limits = {"name": per_name, "addr": per_address}
        self.lockout_s, self.clock = lockout_s, clock or time.time
        self.state = state or LocalState(max_entries)
        # key -> [failures, first failure at, locked until]

    async def wait(self, name: str, address: str) -> float:
        """Seconds until ``name`` from ``address`` may try again (0: now)."""
        now = self.clock()
        waits = [await self.state.update(key, lambda v: (v, (v[2] - now) if v else 0.0),
                                         ttl_s=self.lockout_s)
                 for key in _keys(name, address)]
        return max(0.0, *waits)

    async def failed(self, name: str, address: str) -> bool:
        """Count a failure; True when it locks the name or the address out."""
        now, locked = self.clock(), False
        for key in _keys(name, address):
            limit = self.limits[key.split(":")[1]]

            def count(value, limit=limit):
                failures, first, until = value or (0, now, 0.0)
                if failures and now - first > self.lockout_s:  # old failures are forgiven
                    failures, first = 0, now
                failures += 1
                hit = limit > 0 and failures >= limit
                if hit:
                    until, failures = now + self.lockout_s, 0
                return [failures, first if failures > 1 else now, until], hit
            locked = await self.state.update(key, count, ttl_s=2 * self.lockout_s) or locked
        return locked

    async def succeeded(self, name: str) -> None:
        """A right password clears its name's failures (not its address's)."""
        await self.state.update(_keys(name, "")[0], lambda v: (None, None),
                                ttl_s=self.lockout_s)


def _keys(name: str, address: str) -> tuple[str, str]:
    return "login:name:" + name.strip().casefold(), "login:addr:" + address
