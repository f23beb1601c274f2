"""The two shells: each sends the core's calls with an httpx client and hands back the
replies. Only streaming and paging loops differ in spelling (`for` / `async for`)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ._api import Api
from ._core import Auth, Call, Events, Op, exchange
from .errors import UnreachableError
from .types import Event, Memory

DEFAULT_URL = "http://127.0.0.1:8420"


def _request(http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
    return http.build_request(call.method, call.path, params=call.params, json=call.json,
                              content=call.content, headers=call.headers)


def _unreachable(url: Any, exc: Exception) -> UnreachableError:
    return UnreachableError(f"cannot reach memlane at {url} ({exc})")


class Client(Api):
    """A synchronous client. Credentials: ``api_key``; or ``username`` and ``password``
    (tokens are fetched and refreshed as needed); or ``token`` and ``refresh_token``."""

    def __init__(self, url: str = DEFAULT_URL, *, api_key: str | None = None,
                 token: str | None = None, refresh_token: str | None = None,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 120.0, http: httpx.Client | None = None):
        self._auth = Auth(api_key, token, refresh_token, username, password)
        self._http = http or httpx.Client(base_url=url, timeout=timeout)

    def _run(self, op: Op[Any]) -> Any:
        try:
            call = next(op)
            while True:
                call = op.send(self._send(call))
        except StopIteration as done:
            return done.value

    def _send(self, call: Call) -> httpx.Response:
        try:
            reply = self._http.send(_request(self._http, call), stream=call.stream)
            if call.stream and reply.status_code >= 400:
                reply.read()
            return reply
        except httpx.TransportError as exc:
            raise _unreachable(self._http.base_url, exc) from None

    def ask_stream(self, question: str, *, limit: int | None = None,
                   max_tokens: int | None = None) -> Iterator[Event]:
        """The answer's events as they come: contexts, tokens, done."""
        return self._events(self._ask_call(question, limit, max_tokens, True))

    def chat_stream(self, message: str, *, conversation_id: str | None = None,
                    max_tokens: int | None = None) -> Iterator[Event]:
        return self._events(self._chat_call(message, conversation_id, max_tokens, True))

    def iter_memories(self, *, page_size: int = 100, **filters: Any) -> Iterator[Memory]:
        """Every memory (newest first), a page at a time."""
        offset = 0
        while True:
            page = self.list(limit=page_size, offset=offset, **filters)
            yield from page.memories
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    def _events(self, call: Call) -> Iterator[Event]:
        call.stream = True
        reply = self._run(exchange(self._auth, call))
        try:
            parser = Events()
            for line in reply.iter_lines():
                yield from parser.feed(line)
        finally:
            reply.close()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(Api):
    """The same API for asyncio: every method is awaited; streams and pages are async
    iterators."""

    def __init__(self, url: str = DEFAULT_URL, *, api_key: str | None = None,
                 token: str | None = None, refresh_token: str | None = None,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 120.0, http: httpx.AsyncClient | None = None):
        self._auth = Auth(api_key, token, refresh_token, username, password)
        self._http = http or httpx.AsyncClient(base_url=url, timeout=timeout)

    async def _run(self, op: Op[Any]) -> Any:  # type: ignore[override]
        try:
            call = next(op)
            while True:
                call = op.send(await self._send(call))
        except StopIteration as done:
            return done.value

    async def _send(self, call: Call) -> httpx.Response:
        try:
            reply = await self._http.send(_request(self._http, call), stream=call.stream)
            if call.stream and reply.status_code >= 400:
                await reply.aread()
            return reply
        except httpx.TransportError as exc:
            raise _unreachable(self._http.base_url, exc) from None

    def ask_stream(self, question: str, *, limit: int | None = None,
                   max_tokens: int | None = None) -> AsyncIterator[Event]:
        return self._events(self._ask_call(question, limit, max_tokens, True))

    def chat_stream(self, message: str, *, conversation_id: str | None = None,
                    max_tokens: int | None = None) -> AsyncIterator[Event]:
        return self._events(self._chat_call(message, conversation_id, max_tokens, True))

    async def iter_memories(self, *, page_size: int = 100, **filters: Any
                            ) -> AsyncIterator[Memory]:
        offset = 0
        while True:
            page = await self.list(limit=page_size, offset=offset, **filters)
            for memory in page.memories:
                yield memory
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    async def _events(self, call: Call) -> AsyncIterator[Event]:
        call.stream = True
        reply = await self._run(exchange(self._auth, call))
        try:
            parser = Events()
            async for line in reply.aiter_lines():
                for event in parser.feed(line):
                    yield event
        finally:
            await reply.aclose()

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
