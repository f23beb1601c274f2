"""One place that renders errors: MemlaneError by its status, validation as 422 (or 400
for a body that is not JSON), anything else as a 500 that leaks nothing."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import MemlaneError

log = logging.getLogger(__name__)


def error_body(message: str, code: str, param: str | None = None) -> dict:
    body = {"detail": message, "code": code}
    if param:
        body["param"] = param
    return body


async def _memlane_error(request: Request, exc: MemlaneError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(error_body(exc.message, exc.code, exc.param), exc.status,
                        headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(error_body("the request body is not valid JSON", "bad_request"), 400)
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse({"detail": details, "code": "invalid"}, 422)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(error_body(str(exc.detail), "http_error"), exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal error", "internal_error"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MemlaneError, _memlane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
