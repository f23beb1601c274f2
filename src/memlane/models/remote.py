"""Any OpenAI-compatible chat endpoint (Ollama, llama.cpp server, vLLM, OpenAI, ...).

Requests stream (server-sent events). 429, 5xx and connection errors are retried with
exponential backoff (or the server's Retry-After), but only before the first token has
been passed on; a semaphore bounds the requests in flight.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..errors import Unavailable
from .llm import LLM, Delta, Usage

MAX_WAIT_S = 30.0


class RemoteLLM(LLM):
    def __init__(self, base_url: str, model: str, *, api_key: str | None = None,
                 context_window: int = 4096, concurrency: int = 5, retries: int = 4,
                 backoff_s: float = 0.5, timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.model = self.name = model
        self.context_window = context_window
        self.concurrency, self.retries = max(1, concurrency), max(0, retries)
        self.backoff_s, self.timeout_s = backoff_s, timeout_s
        self._api_key = api_key
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Future | None = None

    async def stream(self, messages: list[dict[str, str]], *, max_tokens: int = 512,
                     temperature: float = 0.2, json_schema: dict[str, Any] | None = None,
                     stop: list[str] | None = None) -> AsyncIterator[Delta]:
        payload = self._payload(messages, max_tokens, temperature, json_schema, stop)
        http, slots = self._client()
        async with slots:
            for attempt in range(self.retries + 1):
                started, wait = False, None
                try:
                    async with http.stream("POST", f"{self.base_url}/chat/completions",
                                           json=payload) as response:
                        if response.status_code < 400:
                            async for delta in _deltas(response):
                                started = True
                                yield delta
                            return
                        wait = await self._refusal(response, attempt)
                except httpx.TransportError as exc:
                    if started or attempt == self.retries:
                        raise Unavailable(f"{self.base_url} failed: {exc!r}") from None
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))

    def _payload(self, messages, max_tokens, temperature, json_schema, stop) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model, "messages": messages, "max_tokens": max_tokens,
            "temperature": temperature, "stream": True,
            "stream_options": {"include_usage": True}}
        if stop:
            payload["stop"] = stop
        if json_schema is not None:
            payload["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "output", "schema": json_schema, "strict": True}}
        return payload

    async def _refusal(self, response: httpx.Response, attempt: int) -> float:
        """The wait before retrying a refused request, or Unavailable when that is final."""
        status = response.status_code
        message = _error_message((await response.aread()).decode("utf-8", "replace"))
        retryable = status == 429 or status >= 500
        if not retryable or attempt == self.retries:
            tries = f" after {attempt + 1} attempts" if retryable else ""
            raise Unavailable(f"{self.base_url} answered {status}{tries}: {message}")
        wait = _retry_after(response)
        return self._backoff(attempt) if wait is None else wait

    def _backoff(self, attempt: int) -> float:
        return min(MAX_WAIT_S, self.backoff_s * 2 ** attempt)

    def _client(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._http = httpx.AsyncClient(headers=headers,
                                           timeout=httpx.Timeout(self.timeout_s))
            self._slots, self._loop = asyncio.Semaphore(self.concurrency), loop
        return self._http, self._slots

    def close(self) -> None:
        http, self._http = self._http, None
        if http is None:
            return
        try:
            if asyncio.get_running_loop() is self._loop:
                self._closing = asyncio.ensure_future(http.aclose())
        except RuntimeError:
            pass  # no loop here: the connections go with the client

    def info(self) -> dict[str, Any]:
        return {**super().info(), "base_url": self.base_url, "model": self.model}


async def _deltas(response: httpx.Response) -> AsyncIterator[Delta]:
    finish, usage = None, None
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise Unavailable(f"unreadable event from upstream: {data[:200]!r}") from None
        if chunk.get("error"):
            raise Unavailable(f"upstream error: {_error_message(json.dumps(chunk))}")
        if chunk.get("usage"):
            usage = Usage(chunk["usage"].get("prompt_tokens") or 0,
                          chunk["usage"].get("completion_tokens") or 0)
        for choice in chunk.get("choices") or []:
            finish = choice.get("finish_reason") or finish
            if text := (choice.get("delta") or {}).get("content"):
                yield Delta(text)
    yield Delta(finish_reason=finish or "stop", usage=usage or Usage())


def _error_message(body: str) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return body[:500] or "(empty body)"
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or body[:500])


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(MAX_WAIT_S, max(0.0, float(response.headers["retry-after"])))
    except (KeyError, ValueError):
        return None
