"""One place that renders errors: MemlaneError by its status, validation as 422 (or 400
for a body that is not JSON), anything else as a 500 that leaks nothing.

Under `/v1` (the OpenAI-compatible door) the same errors, with the same statuses, take
OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. `Problem`,
`ValidationProblem` and `OpenAIError` describe these bodies for the OpenAPI document
(`openapi.py`)."""
from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from ..errors import MemlaneError

log = logging.getLogger(__name__)

OPENAI_PREFIX = "/v1"


class Problem(BaseModel):
    """An error outside `/v1` (`error_body`)."""
    detail: str
    code: str
    param: str | None = None


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """A request that failed validation, field by field (422 outside `/v1`)."""
    detail: list[FieldProblem]
    code: str


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """An error under `/v1` (`openai_body`)."""
    error: OpenAIErrorDetail


def error_body(message: str, code: str, param: str | None = None) -> dict:
    body = {"detail": message, "code": code}
    if param:
        body["param"] = param
    return body


def openai_body(status: int, message: str, code: str | None = None,
                param: str | None = None) -> dict:
    """OpenAI's error object for an HTTP status (also sent as the last chunk of a stream)."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    if status == 401:
        code = "invalid_api_key"
    if status == 429:
        kind, code = "rate_limit_error", "rate_limit_exceeded"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_error(exc: Exception) -> dict:
    if isinstance(exc, MemlaneError):
        return openai_body(exc.status, exc.message, exc.code, exc.param)
    return openai_body(500, "internal error", "internal_error")


def _is_openai(request: Request) -> bool:
    path = request.url.path
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def _render(request: Request, status: int, message: str, code: str | None,
            param: str | None = None, headers: dict | None = None) -> JSONResponse:
    if _is_openai(request):
        return JSONResponse(openai_body(status, message, code, param), status, headers=headers)
    return JSONResponse(error_body(message, code or "error", param), status, headers=headers)


async def _memlane_error(request: Request, exc: MemlaneError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if getattr(exc, "retry_after", 0) > 0:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return _render(request, exc.status, exc.message, exc.code, exc.param, headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _render(request, 400, "the request body is not valid JSON", "bad_request")
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    if _is_openai(request):
        first = details[0]
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        message = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}"
                            for d in details)
        return JSONResponse(openai_body(422, message, "invalid", param), 422)
    return JSONResponse({"detail": details, "code": "invalid"}, 422)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = None if _is_openai(request) else "http_error"
    return _render(request, exc.status_code, str(exc.detail), code,
                   headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _render(request, 500, "internal error", "internal_error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(MemlaneError, _memlane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
