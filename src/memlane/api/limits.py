"""Refuse oversized request bodies (413) before they are read into memory, and more than
so many requests a minute per API key (429; on a socket, per question, commit or turn)."""
from __future__ import annotations

import json

UNLIMITED = ("/api/health", "/app/")  # paths under these are not rate limited


class BodyLimit:
    """``wider``: paths with a limit of their own (an import streams to disk)."""

    def __init__(self, app, max_bytes: int, wider: dict[str, int] | None = None):
        self.app, self.max_bytes, self.wider = app, max_bytes, wider or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("path") in self.wider:
            return await BodyLimit(self.app, self.wider[scope["path"]])(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(scope, send)
        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope, send):
        from .errors import OPENAI_PREFIX, error_body, openai_body
        message = f"request body exceeds {self.max_bytes} bytes"
        path = scope.get("path", "")
        shaped = (openai_body(413, message, "payload_too_large")
                  if path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")
                  else error_body(message, "payload_too_large"))
        body = json.dumps(shaped).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class Buckets:
    """A token bucket per key that refills evenly to ``per_minute``; shared by the HTTP
    middleware and the WebSockets (each question, commit or spoken turn spends one)."""

    def __init__(self, per_minute: int, clock=None):
        import time
        self.per_minute, self.clock = per_minute, clock or time.monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Seconds to wait for a token (0: one was taken)."""
        if self.per_minute <= 0:
            return 0.0
        now, rate = self.clock(), self.per_minute / 60
        tokens, at = self._buckets.get(key, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - at) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate


def bucket_for(secret: str) -> str:
    import hashlib
    return "key:" + hashlib.sha256(secret.encode()).hexdigest()


class RateLimit:
    """At most ``buckets.per_minute`` requests per API key or token, in multi-user mode;
    over it, 429 with `Retry-After` (OpenAI-shaped on /v1), and a WebSocket handshake is
    closed with 1013 ("try again later"). Health checks and the web app's files are free.
    Requests without a bearer value share the client address's bucket."""

    def __init__(self, app, buckets: Buckets):
        self.app, self.buckets = app, buckets

    async def __call__(self, scope, receive, send):
        if (scope["type"] not in ("http", "websocket")
                or scope.get("path", "").startswith(UNLIMITED) or scope.get("path") == "/"):
            return await self.app(scope, receive, send)
        wait = self.buckets.take(_bucket_key(scope))
        if wait <= 0:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1013,
                               "reason": "rate limited"})
        await _too_many(scope, send, wait, self.buckets.per_minute)


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
