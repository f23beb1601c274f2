"""The LLM seam. Subclasses implement `stream`; callers use `generate` (the stream,
metered for /metrics), `complete` and `complete_json`.

Messages are OpenAI-shaped dicts ({"role": ..., "content": ...}). A stream yields
`Delta`s: text pieces as they are produced, and last a delta with `finish_reason`
and `usage` (prompt and completion token counts).
"""
from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import Unavailable


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        """As every door reports it (`schemas.UsageOut`)."""
        return {"prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}


@dataclass
class Delta:
    text: str = ""
    finish_reason: str | None = None  # "stop" | "length" on the last delta
    usage: Usage | None = None  # on the last delta


@dataclass
class Completion:
    text: str
    finish_reason: str
    usage: Usage = field(default_factory=Usage)


@dataclass
class Meter:
    """Every generation's count, seconds, time to first text and tokens (for /metrics)."""
    generations: int = 0
    seconds: float = 0.0
    first_token_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, seconds: float, first_token: float | None, usage: Usage | None) -> None:
        self.generations += 1
        self.seconds += seconds
        self.first_token_seconds += first_token if first_token is not None else seconds
        if usage:
            self.prompt_tokens += usage.prompt_tokens
            self.completion_tokens += usage.completion_tokens


class LLM(ABC):
    name: str = "llm"
    context_window: int = 4096  # tokens; the context builder scales its budgets to it
    generates: bool = True  # False for "none": no extraction or summaries are queued

    @abstractmethod
    def stream(self, messages: list[dict[str, str]], *, max_tokens: int = 512,
               temperature: float = 0.2, json_schema: dict[str, Any] | None = None,
               stop: list[str] | None = None) -> AsyncIterator[Delta]:
        """Generate a reply; with ``json_schema`` the text is JSON valid against it."""

    async def prefill(self, messages: list[dict[str, str]]) -> None:
        """Get ready for prompts that start with ``messages`` (a local model evaluates them
        into its cache now, so a reply to them starts sooner). Default: nothing."""
        return None

    @property
    def meter(self) -> Meter:
        return self.__dict__.setdefault("_meter", Meter())

    async def generate(self, messages: list[dict[str, str]], **options: Any
                       ) -> AsyncIterator[Delta]:
        """`stream`, timed and counted in `meter`."""
        start, first, usage = time.perf_counter(), None, None
        try:
            async for delta in self.stream(messages, **options):
                if first is None and delta.text:
                    first = time.perf_counter() - start
                usage = delta.usage or usage
                yield delta
        finally:
            self.meter.add(time.perf_counter() - start, first, usage)

    async def complete(self, messages: list[dict[str, str]], **options: Any) -> Completion:
        parts, last = [], Delta(finish_reason="stop", usage=Usage())
        async for delta in self.generate(messages, **options):
            parts.append(delta.text)
            if delta.finish_reason:
                last = delta
        return Completion("".join(parts), last.finish_reason or "stop", last.usage or Usage())

    async def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any],
                            **options: Any) -> Any:
        done = await self.complete(messages, json_schema=schema, **options)
        try:
            return json.loads(done.text)
        except json.JSONDecodeError as exc:
            raise Unavailable(f"{self.name} returned invalid JSON: {exc}") from None

    def count_tokens(self, text: str) -> int:
        """An estimate (≈4 characters a token); real tokenizers override it."""
        return max(1, len(text) // 4) if text else 0

    def warm_up(self) -> None:
        """Load weights and run one tiny generation, so the first request is fast."""
        return None

    def close(self) -> None:
        """Release the weights (at shutdown)."""
        return None

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "context_window": self.context_window}


class NoLLM(LLM):
    """`llm = "none"`: a search-only deployment. Answers and chat say why they can't."""
    name = "none"
    generates = False

    async def stream(self, messages, *, max_tokens=512, temperature=0.2, json_schema=None,
                     stop=None) -> AsyncIterator[Delta]:
        raise Unavailable("no LLM is configured (llm = \"none\"); set MEMLANE_LLM to "
                          "\"local\" or \"remote\"")
        yield Delta()  # pragma: no cover  (makes this an async generator)
