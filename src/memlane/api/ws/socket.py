"""What every memlane WebSocket shares: authentication (a bearer header, or an auth message
first), the size limit, and error replies that keep the socket open.

Close codes: 1008 for a missing or wrong key (or another refusal of the whole socket, such
as another user's conversation), 1009 for a message over the size limit, 1011 when the
server cannot serve it (voice off, an internal failure). A malformed message is answered
with an error and the socket stays usable."""
from __future__ import annotations

import logging
import math
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ...domain import User
from ...engine import Engine
from ...errors import MemlaneError, RateLimited, Unauthorized
from ..limits import bucket_for

log = logging.getLogger(__name__)
POLICY, TOO_BIG, INTERNAL = 1008, 1009, 1011


class Closed(Exception):
    """The peer went away, or we closed the socket."""


class Frame:
    """One received WebSocket message: binary ``data`` or ``text``."""

    def __init__(self, data: bytes | None, text: str | None):
        self.data, self.text = data, text


class Socket:
    """A WebSocket with memlane's rules. Subclasses define how errors and replies look."""

    def __init__(self, websocket: WebSocket, engine: Engine):
        self.ws, self.engine = websocket, engine
        self.limit = engine.settings.ws_max_message_bytes
        self.user: User | None = None
        self.bucket = ""

    async def open(self) -> User:
        """Accept, then authenticate: by header, else by the first message."""
        await self.ws.accept()
        key = _bearer(self.ws.headers.get("authorization"))
        if self.engine.settings.auth_enabled and not key:
            key = self.auth_key(await self.receive())
        self.user = await self._authenticate(key)
        self.bucket = bucket_for(key) if key else ""
        return self.user

    async def spend(self) -> None:
        """Count one unit of work (a question, a commit, a spoken turn) against the key's
        rate limit, the same one its HTTP requests use; 429 when it is spent."""
        buckets = getattr(self.ws.app.state, "buckets", None)
        if buckets is None or not self.bucket:
            return
        if (wait := await buckets.take(self.bucket)) > 0:
            raise RateLimited(f"rate limit of {buckets.per_minute} requests per minute "
                              f"reached; retry in {math.ceil(wait)} s")

    async def _authenticate(self, key: str | None) -> User:
        try:
            return await self.engine.accounts.caller(key)
        except Unauthorized as exc:
            await self.fail(exc)
            await self.close(POLICY, exc.message)
            raise Closed from None

    def auth_key(self, frame: Frame) -> str | None:
        """The API key in an auth message (None if the frame is not one)."""
        raise NotImplementedError

    async def receive(self) -> Frame:
        try:
            message = await self.ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            raise Closed from None
        if message["type"] == "websocket.disconnect":
            raise Closed
        data, text = message.get("bytes"), message.get("text")
        size = len(data) if data is not None else len((text or "").encode())
        if size > self.limit:
            await self.close(TOO_BIG, f"message of {size} bytes is over the limit of "
                                      f"{self.limit}")
            raise Closed
        return Frame(data, text)

    async def fail(self, exc: MemlaneError, request_id: str = "") -> None:
        """Tell the client what went wrong; the socket stays open."""
        raise NotImplementedError

    async def send_bytes(self, data: bytes) -> None:
        try:
            await self.ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError):
            raise Closed from None

    async def send_json(self, data: dict[str, Any]) -> None:
        try:
            await self.ws.send_json(data)
        except (WebSocketDisconnect, RuntimeError):
            raise Closed from None

    async def close(self, code: int, reason: str = "") -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code, reason[:120])
            except RuntimeError:
                pass


async def serve(socket: Socket, handler) -> None:
    """Run ``handler(socket)`` until the peer leaves; a failure becomes an error and 1011."""
    try:
        await socket.open()
        await handler(socket)
    except Closed:
        return
    except MemlaneError as exc:  # a handler gave up on the whole socket
        await _last_words(socket, exc)
        await socket.close(POLICY if exc.status < 500 else INTERNAL, exc.message)
    except Exception:
        log.exception("websocket handler failed")
        await _last_words(socket, MemlaneError("internal error"))
        await socket.close(INTERNAL, "internal error")


async def _last_words(socket: Socket, exc: MemlaneError) -> None:
    try:
        await socket.fail(exc)
    except Closed:
        pass


def _bearer(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
