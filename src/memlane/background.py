"""One named background task of the engine, started once and stopped cleanly."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class Background:
    def __init__(self, name: str):
        self.name = name
        self.task: asyncio.Task | None = None

    def start(self, work: Coroutine[Any, Any, Any]) -> None:
        self.task = asyncio.create_task(work, name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait until it has ended."""
        task, self.task = self.task, None
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
