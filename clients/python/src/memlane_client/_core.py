"""The transport-agnostic core: every operation is a generator that yields the HTTP calls
it needs and receives their responses (auth, token refresh and error mapping included),
then returns a typed result. `Client` drives them with httpx's sync client,
`AsyncClient` with its async one; neither knows the API."""
from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .errors import AuthenticationError, MemlaneError, error_for
from .types import Answer, Context, Event

T = TypeVar("T")


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False  # the reply's body is read as it arrives


class Reply(Protocol):
    status_code: int

    def json(self) -> Any: ...


Op = Generator[Call, Reply, T]


class Auth:
    """An API key as is; or access and refresh tokens (from a user name and password, or
    given), refreshed once when the server says the access token is no longer good."""

    def __init__(self, api_key: str | None = None, token: str | None = None,
                 refresh_token: str | None = None, username: str | None = None,
                 password: str | None = None):
        self.api_key, self.token, self.refresh_token = api_key, token, refresh_token
        self.username, self.password = username, password

    def sign(self, call: Call) -> Call:
        secret = self.token or self.api_key
        if secret:
            call.headers["Authorization"] = f"Bearer {secret}"
        return call

    def login(self) -> Call | None:
        if self.token or not self.username:
            return None
        return Call("POST", "/api/auth/token",
                    json={"username": self.username, "password": self.password})

    def refresh(self) -> Call | None:
        if self.refresh_token:
            return Call("POST", "/api/auth/token", json={"refresh_token": self.refresh_token})
        self.token = None  # a password can log in again
        return self.login()

    def update(self, tokens: dict[str, Any]) -> None:
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]


def exchange(auth: Auth, call: Call) -> Op[Reply]:
    """Send ``call`` signed (logging in first if need be); on a 401 refresh the tokens
    and send it once more. An error status raises its MemlaneError."""
    if (login := auth.login()) is not None:
        auth.update(checked((yield login)).json())
    reply = yield auth.sign(call)
    if reply.status_code == 401 and (again := auth.refresh()) is not None:
        auth.update(checked((yield again)).json())
        reply = yield auth.sign(call)
    return checked(reply)


def checked(reply: Reply) -> Reply:
    if reply.status_code < 400:
        return reply
    try:
        body = reply.json()
    except (ValueError, json.JSONDecodeError):
        body = getattr(reply, "text", "")
    raise error_for(reply.status_code, body)


def parsed(auth: Auth, call: Call, kind: type[T] | None = None) -> Op[T]:
    reply = yield from exchange(auth, call)
    if kind is None or reply.status_code == 204:
        return None  # type: ignore[return-value]
    return kind.model_validate(reply.json())  # type: ignore[attr-defined]


def clean(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Events:
    """Server-Sent Events lines in, typed events out (`feed` one line at a time)."""

    def __init__(self):
        self.name = "message"

    def feed(self, line: str) -> Iterator[Event]:
        if line.startswith("event:"):
            self.name = line[6:].strip()
        elif line.startswith("data:"):
            name, self.name = self.name, "message"
            yield from _event(name, json.loads(line[5:]))


def _event(name: str, data: dict[str, Any]) -> Iterator[Event]:
    if name == "contexts":
        yield Event(event="contexts", contexts=[Context.model_validate(c)
                                                for c in data["contexts"]])
    elif name == "token":
        yield Event(event="token", text=data["text"])
    elif name == "done":
        yield Event(event="done", answer=Answer.model_validate(data))
    elif name == "error":
        raise error_for(data.get("status", 500), data)


def answer_of(events: list[Event]) -> Answer:
    contexts = next((e.contexts for e in events if e.event == "contexts"), [])
    done = next((e.answer for e in events if e.answer is not None), None)
    if done is None:
        raise MemlaneError("the stream ended without an answer")
    return done.model_copy(update={"contexts": contexts})


__all__ = ["AuthenticationError", "Call", "Events", "Op", "exchange", "parsed"]
