"""The API, written once: each method builds its operation; `_run` (sync or async,
provided by the client class) carries it out. Streaming and paging methods live on the
clients, over the same calls and parsers."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ._core import Auth, Call, Op, clean, parsed
from .types import Answer, ImportSummary, Memory, MemoryPage, SearchResults


def _when(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class Api:
    _auth: Auth

    def _run(self, op: Op[Any]) -> Any:
        raise NotImplementedError

    def remember(self, text: str, *, type: str = "semantic",
                 metadata: dict[str, Any] | None = None,
                 occurred_at: datetime | str | None = None,
                 client_id: str | None = None) -> Memory:
        """Store a memory (the same ``client_id`` or text returns the existing one)."""
        body = clean(text=text, type=type, metadata=metadata, client_id=client_id,
                     occurred_at=_when(occurred_at))
        return self._run(parsed(self._auth, Call("POST", "/api/memories", json=body), Memory))

    def get(self, memory_id: str) -> Memory:
        return self._run(parsed(self._auth, Call("GET", f"/api/memories/{memory_id}"),
                                Memory))

    def update(self, memory_id: str, **changes: Any) -> Memory:
        """Change fields: text, type, metadata, occurred_at, importance, confidence."""
        changes = {k: _when(v) if k == "occurred_at" else v for k, v in changes.items()}
        return self._run(parsed(self._auth, Call("PATCH", f"/api/memories/{memory_id}",
                                                 json=changes), Memory))

    def forget(self, memory_id: str) -> None:
        return self._run(parsed(self._auth, Call("DELETE", f"/api/memories/{memory_id}")))

    def list(self, *, limit: int = 50, offset: int = 0, types: list[str] | None = None,
             entity: str | None = None, metadata: dict[str, Any] | None = None,
             since: datetime | str | None = None, until: datetime | str | None = None
             ) -> MemoryPage:
        """One page of memories, newest first (`iter_memories` walks every page)."""
        return self._run(parsed(self._auth, self._list_call(
            limit, offset, types, entity, metadata, since, until), MemoryPage))

    def search(self, query: str, *, limit: int = 10, types: list[str] | None = None,
               filters: dict[str, Any] | None = None, emotion: str | None = None
               ) -> SearchResults:
        body = clean(query=query, limit=limit, types=types, filters=filters, emotion=emotion)
        return self._run(parsed(self._auth, Call("POST", "/api/search", json=body),
                                SearchResults))

    def ask(self, question: str, *, limit: int | None = None,
            max_tokens: int | None = None) -> Answer:
        """The whole answer at once (`ask_stream` yields it as it is written)."""
        return self._run(parsed(self._auth, self._ask_call(question, limit, max_tokens,
                                                           False), Answer))

    def chat(self, message: str, *, conversation_id: str | None = None,
             max_tokens: int | None = None) -> Answer:
        return self._run(parsed(self._auth, self._chat_call(message, conversation_id,
                                                            max_tokens, False), Answer))

    def import_file(self, data: bytes, *, format: str = "auto", filename: str | None = None,
                    extract: bool = False) -> ImportSummary:
        """Import an export (ChatGPT, Claude), a transcript or memlane JSON lines."""
        params = clean(format=format, filename=filename, extract=str(extract).lower())
        return self._run(parsed(self._auth, Call("POST", "/api/import", params=params,
                                                 content=data), ImportSummary))

    # calls shared with the streaming and paging methods -------------------------------
    @staticmethod
    def _list_call(limit, offset, types, entity, metadata, since, until) -> Call:
        params = clean(limit=limit, offset=offset, type=types, entity=entity,
                       metadata=json.dumps(metadata) if metadata else None,
                       since=_when(since), until=_when(until))
        return Call("GET", "/api/memories", params=params)

    @staticmethod
    def _ask_call(question, limit, max_tokens, stream: bool) -> Call:
        return Call("POST", "/api/ask", json=clean(question=question, limit=limit,
                                                   max_tokens=max_tokens, stream=stream))

    @staticmethod
    def _chat_call(message, conversation_id, max_tokens, stream: bool) -> Call:
        return Call("POST", "/api/chat", json=clean(
            message=message, conversation_id=conversation_id, max_tokens=max_tokens,
            stream=stream))
