"""Errors, each carrying the HTTP status and the server's message.

MemlaneError
 ├── BadRequestError (400)
 ├── AuthenticationError (401)
 ├── PermissionDeniedError (403)
 ├── NotFoundError (404)
 ├── ConflictError (409)
 ├── PayloadTooLargeError (413)
 ├── InvalidError (422)
 ├── RateLimitError (429)
 ├── ServerError (5xx)
 └── UnreachableError (no answer: status 0)
"""
from __future__ import annotations

from typing import Any


class MemlaneError(Exception):
    status = 0

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 param: str | None = None, body: Any = None):
        super().__init__(message)
        self.message, self.code, self.param, self.body = message, code, param, body
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.status else self.message


class BadRequestError(MemlaneError):
    status = 400


class AuthenticationError(MemlaneError):
    status = 401


class PermissionDeniedError(MemlaneError):
    status = 403


class NotFoundError(MemlaneError):
    status = 404


class ConflictError(MemlaneError):
    status = 409


class PayloadTooLargeError(MemlaneError):
    status = 413


class InvalidError(MemlaneError):
    status = 422


class RateLimitError(MemlaneError):
    status = 429


class ServerError(MemlaneError):
    status = 500


class UnreachableError(MemlaneError):
    """The server could not be reached."""


BY_STATUS = {e.status: e for e in (BadRequestError, AuthenticationError,
                                   PermissionDeniedError, NotFoundError, ConflictError,
                                   PayloadTooLargeError, InvalidError, RateLimitError)}


def error_for(status: int, body: Any) -> MemlaneError:
    """The error for a response: REST's {"detail", "code"} or /v1's {"error": {...}}."""
    message, code, param = _fields(body)
    kind = BY_STATUS.get(status, ServerError if status >= 500 else MemlaneError)
    return kind(message, status=status, code=code, param=param, body=body)


def _fields(body: Any) -> tuple[str, str | None, str | None]:
    if not isinstance(body, dict):
        return str(body or "error"), None, None
    if isinstance(body.get("error"), dict):
        e = body["error"]
        return str(e.get("message")), e.get("code"), e.get("param")
    detail = body.get("detail")
    if isinstance(detail, list):  # field-by-field validation problems
        detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}"
                           for d in detail)
    return str(detail), body.get("code"), body.get("param")
