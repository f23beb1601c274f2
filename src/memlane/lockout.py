"""Password guessing, slowed: failed sign-ins are counted per user name and per client
address (whatever else the request carries); past a limit, that name or address is locked
out for a while, and attempts meanwhile are refused without checking the password."""
from __future__ import annotations

import time
from collections import OrderedDict


class Lockout:
    def __init__(self, per_name: int, per_address: int, lockout_s: float, clock=None,
                 max_entries: int = 10_000):
        self.limits = {"name": per_name, "addr": per_address}
        self.lockout_s, self.clock = lockout_s, clock or time.monotonic
        self.max_entries = max_entries
        self._seen: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        # key -> (failures, first failure at, locked until)

    def wait(self, name: str, address: str) -> float:
        """Seconds until ``name`` from ``address`` may try again (0: now)."""
        now = self.clock()
        return max(0.0, *(self._entry(key, now)[2] - now for key in _keys(name, address)))

    def failed(self, name: str, address: str) -> bool:
        """Count a failure; True when it locks the name or the address out."""
        now, locked = self.clock(), False
        for key in _keys(name, address):
            failures, first, until = self._entry(key, now)
            failures += 1
            limit = self.limits[key.split(":", 1)[0]]
            if limit > 0 and failures >= limit:
                until, failures, locked = now + self.lockout_s, 0, True
            self._seen[key] = (failures, first if failures > 1 else now, until)
            self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return locked

    def succeeded(self, name: str) -> None:
        """A right password clears its name's failures (not its address's)."""
        self._seen.pop(_keys(name, "")[0], None)

    def _entry(self, key: str, now: float) -> tuple[int, float, float]:
        failures, first, until = self._seen.get(key, (0, now, 0.0))
        if failures and now - first > self.lockout_s:  # old failures are forgiven
            failures, first = 0, now
        return failures, first, until


def _keys(name: str, address: str) -> tuple[str, str]:
    return "name:" + name.strip().casefold(), "addr:" + address
