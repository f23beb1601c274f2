"""Refuse oversized request bodies (413) without reading past the limit, bodies whose text
is not valid Unicode (400), and more than so many requests a minute per API key (429; on
a socket, per question, commit or turn)."""
from __future__ import annotations

import json
import re

from ..shared import LocalState, State

UNLIMITED = ("/api/health", "/app/")  # paths under these are not rate limited


class BodyLimit:
    """Reads the whole body before the app sees it (it is at most ``max_bytes``): a longer
    one is refused with 413 whether or not it declared its length, and one whose JSON
    could carry text that is not Unicode (a lone surrogate, UTF-16) with 400. ``wider``:
    paths with a limit of their own, whose bodies stream through (an import goes to
    disk), counted as they come."""

    def __init__(self, app, max_bytes: int, wider: dict[str, int] | None = None):
        self.app, self.max_bytes, self.wider = app, max_bytes, wider or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("path") in self.wider:
            return await self._streamed(scope, receive, send, self.wider[scope["path"]])
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await _refuse(scope, send, 413, self._too_large(), "payload_too_large")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await _refuse(scope, send, 413, self._too_large(), "payload_too_large")
            if not message.get("more_body", False):
                break
        problem = text_problem(bytes(body), headers.get(b"content-type", b""))
        if problem:
            return await _refuse(scope, send, 400, problem, "bad_request")
        await self.app(scope, _replay(bytes(body), receive), send)

    def _too_large(self, limit: int | None = None) -> str:
        return f"request body exceeds {limit or self.max_bytes} bytes"

    async def _streamed(self, scope, receive, send, limit: int) -> None:
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message
        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _refuse(scope, send, 413, self._too_large(limit), "payload_too_large")


class _TooLarge(Exception):
    pass


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()  # e.g. http.disconnect, for streaming responses
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return replay


_ESCAPED_SURROGATE = re.compile(rb"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")  # not UTF-8, yet json.loads takes it


def text_problem(body: bytes, content_type: bytes) -> str | None:
    """Why the body's text cannot be trusted to be Unicode, or None."""
    if _ENCODED_SURROGATE.search(body) or lone_surrogate_escape(body):
        return "the request body holds a lone surrogate: text must be valid Unicode"
    if (body[:4].count(0) and (b"json" in content_type or not content_type)
            and not json.detect_encoding(body).startswith("utf-8")):
        return "JSON request bodies must be UTF-8"
    return None


def lone_surrogate_escape(raw: bytes) -> bool:
    """A JSON escape of half a surrogate pair (\\ud800) without its other half."""
    if b"\\u" not in raw:
        return False
    high_ends_at = None
    for m in _ESCAPED_SURROGATE.finditer(raw):
        if len(m.group(1)) % 2 == 0:
            continue  # an escaped backslash followed by text, not an escape
        if int(m.group(2), 16) < 0xDC00:
            if high_ends_at is not None:
                return True
            high_ends_at = m.end()
        elif high_ends_at != m.start():
            return True
        else:
            high_ends_at = None
    return high_ends_at is not None


async def _refuse(scope, send, status: int, message: str, code: str) -> None:
    from .errors import OPENAI_PREFIX, error_body, openai_body
    path = scope.get("path", "")
    shaped = (openai_body(status, message, code)
              if path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")
              else error_body(message, code))
    body = json.dumps(shaped).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Buckets:
    """A token bucket per key that refills evenly to ``per_minute``; shared by the HTTP
    middleware and the WebSockets (each question, commit or spoken turn spends one). The
    buckets live in ``state`` (memory by default: at most ``max_keys``, the least recently
    used go first, as if full again; the store's when replicas share one), under ``name``.
    An untouched bucket is full again within a minute, so that is how long one is kept."""

    def __init__(self, per_minute: int, clock=None, max_keys: int = 100_000,
                 state: State | None = None, name: str = "rate"):
        import time
        self.per_minute, self.clock, self.name = per_minute, clock or time.time, name
        self.state = state or LocalState(max_keys)

    async def take(self, key: str) -> float:
        """Seconds to wait for a token (0: one was taken)."""
        return await self._update(key, spend=True)

    async def wait(self, key: str) -> float:
        """Seconds until a token is free (0: one is), without taking it."""
        return await self._update(key, spend=False)

    async def _update(self, key: str, *, spend: bool) -> float:
        if self.per_minute <= 0:
            return 0.0
        now, rate = self.clock(), self.per_minute / 60

        def step(value):
            tokens, at = value or (float(self.per_minute), now)
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1:
                return [tokens - spend, now], 0.0
            return [tokens, now], (1 - tokens) / rate
        return await self.state.update(f"{self.name}:{key}", step, ttl_s=60.0)


def bucket_for(secret: str) -> str:
    import hashlib
    return "key:" + hashlib.sha256(secret.encode()).hexdigest()


class RateLimit:
    """At most ``buckets.per_minute`` requests per API key or token, in multi-user mode;
    over it, 429 with `Retry-After` (OpenAI-shaped on /v1), and a WebSocket handshake is
    closed with 1013 ("try again later"). Health checks and the web app's files are free.
    Requests without a bearer value share the client address's bucket. A client address
    whose requests were refused for their credentials (401, or a socket closed with 1008)
    more than ``failures.per_minute`` times is refused the same way until its bucket refills,
    whatever keys it sends next (new bogus keys each time buy nothing)."""

    def __init__(self, app, buckets: Buckets, failures: Buckets | None = None):
        self.app, self.buckets = app, buckets
        self.failures = failures or Buckets(0)

    async def __call__(self, scope, receive, send):
        if (scope["type"] not in ("http", "websocket")
                or scope.get("path", "").startswith(UNLIMITED) or scope.get("path") == "/"):
            return await self.app(scope, receive, send)
        address = "addr:" + str((scope.get("client") or ("?",))[0])
        wait = (await self.failures.wait(address)
                or await self.buckets.take(_bucket_key(scope)))
        if wait <= 0:
            return await self.app(scope, receive, self._counting(send, address))
        if scope["type"] == "websocket":
            return await _close_socket(receive, send, 1013, "rate limited: try again later")
        await _too_many(scope, send, wait, self.buckets.per_minute)

    def _counting(self, send, address: str):
        async def counted(message):
            if ((message["type"] == "http.response.start" and message["status"] == 401)
                    or (message["type"] == "websocket.close" and message.get("code") == 1008)):
                await self.failures.take(address)
            await send(message)
        return counted


async def _close_socket(receive, send, code: int, reason: str) -> None:
    """Accept, then close with ``code``: a refusal before accepting reaches the client as
    HTTP 403, with no close code to say why."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code, "reason": reason})


def _bucket_key(scope) -> str:
    auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
    scheme, _, secret = auth.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return bucket_for(secret.strip())
    return "addr:" + str((scope.get("client") or ("?",))[0])


async def _too_many(scope, send, wait: float, per_minute: int) -> None:
    import math

    from .errors import OPENAI_PREFIX, error_body, openai_body
    message = f"rate limit of {per_minute} requests per minute reached; retry later"
    path = scope.get("path", "")
    shaped = (openai_body(429, message) if path == OPENAI_PREFIX
              or path.startswith(OPENAI_PREFIX + "/") else error_body(message, "rate_limited"))
    body = json.dumps(shaped).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"),
                            (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
