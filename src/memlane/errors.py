"""The error tree. Each error carries its HTTP status; one handler per door renders it.

MemlaneError
 ├── BadRequest (400)
 ├── Unauthorized (401)
 ├── Forbidden (403)
 ├── NotFound (404)
 ├── Conflict (409)
 ├── PayloadTooLarge (413)
 ├── Invalid (422)
 ├── RateLimited (429)
 └── Unavailable (503)
"""
from __future__ import annotations


class MemlaneError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "internal error", *, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param


class BadRequest(MemlaneError):
    status, code = 400, "bad_request"


class Unauthorized(MemlaneError):
    status, code = 401, "unauthorized"


class Forbidden(MemlaneError):
    status, code = 403, "forbidden"


class NotFound(MemlaneError):
    status, code = 404, "not_found"


class Conflict(MemlaneError):
    status, code = 409, "conflict"


class PayloadTooLarge(MemlaneError):
    status, code = 413, "payload_too_large"


class Invalid(MemlaneError):
    status, code = 422, "invalid"


class RateLimited(MemlaneError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str = "rate limited", *, param: str | None = None,
                 retry_after: float = 0.0):
        super().__init__(message, param=param)
        self.retry_after = retry_after


class Unavailable(MemlaneError):
    status, code = 503, "unavailable"
