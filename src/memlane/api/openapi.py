"""The OpenAPI document: FastAPI's, plus the error responses it cannot see.

Errors are raised anywhere below a route (the store's Conflict, the engine's NotFound, the
auth dependency's 401) and rendered by one handler (`errors.py`), so `install` documents the
error tree once, on every operation that takes input, in the shape of its door: OpenAI's
under `/v1`, `{"detail", "code"}` elsewhere. The rate limit's 429 goes on every operation it
applies to."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .errors import OPENAI_PREFIX, OpenAIError, Problem, ValidationProblem
from .limits import UNLIMITED

REF = "#/components/schemas/{model}"

ERRORS = {  # status -> what it means, on any operation that takes input
    400: "Bad request: a body that is not JSON, or a value this operation refuses",
    401: "Missing, invalid or revoked credentials",
    403: "The caller may not do this (it needs an admin)",
    404: "Not found (or not the caller's)",
    409: "Conflicts with what exists (a name or `client_id` already taken)",
    503: "Unavailable for now (the database is busy, a model is off); retry later",
}
BODY_ERRORS = {413: "The body, a text or a batch is too large"}
INVALID = "Validation failed"
LIMITED = "Too many requests for this key; retry after `Retry-After` seconds"


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return FastAPI's document with the error responses added."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _add_errors(build())  # build() stores the document on the app
        return app.openapi_schema

    app.openapi = openapi


def inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions written in place, for where no
    component can be referenced (the data of a Server-Sent Event)."""
    schema = model.model_json_schema(mode="serialization")
    defs = schema.pop("$defs", {})

    def expand(node):
        if isinstance(node, dict):
            if "$ref" in node:
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**expand(defs[node["$ref"].rsplit("/", 1)[-1]]), **expand(rest)}
            return {k: expand(v) for k, v in node.items()}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node
    return expand(schema)


def _add_errors(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema([(m, "serialization") for m in (Problem, ValidationProblem,
                                                                 OpenAIError)],
                                 ref_template=REF)
    for name, schema in defs["$defs"].items():
        components.setdefault(name, schema)
    for path, item in document.get("paths", {}).items():
        openai = path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status, response in _errors(path, operation, openai).items():
                if status == "422" or status not in responses:  # FastAPI's 422 has no code
                    responses[status] = response
            operation["responses"] = dict(sorted(responses.items()))


def _errors(path: str, operation: dict, openai: bool) -> dict[str, dict]:
    body, params = "requestBody" in operation, "parameters" in operation
    found: dict[int, dict] = {}
    if body or params or "security" in operation:
        found.update({status: _error(text, openai) for status, text in ERRORS.items()})
    if body:
        found.update({status: _error(text, openai) for status, text in BODY_ERRORS.items()})
    if body or params:
        found[422] = _error(INVALID, openai, invalid=True)
    if not path.startswith(UNLIMITED):
        found[429] = {**_error(LIMITED, openai), "headers": {"Retry-After": {
            "description": "Seconds until a request will be accepted", "required": True,
            "schema": {"type": "integer", "minimum": 1}}}}
    return {str(status): found[status] for status in sorted(found)}


def _error(description: str, openai: bool, invalid: bool = False) -> dict:
    if openai:
        schema = {"$ref": REF.format(model="OpenAIError")}
    elif invalid:  # field errors, or an Invalid raised below the route
        schema = {"anyOf": [{"$ref": REF.format(model="ValidationProblem")},
                            {"$ref": REF.format(model="Problem")}]}
    else:
        schema = {"$ref": REF.format(model="Problem")}
    return {"description": description, "content": {"application/json": {"schema": schema}}}
