"""Schemathesis hooks for the schema fuzz (the CLI loads them from SCHEMATHESIS_HOOKS).

JSON lines (`application/x-ndjson`, the export and import format) both ways: the document
describes a JSON-lines body as the array of its records. And the run's admin does revoke
keys, but never the one it authenticates with (MEMLANE_FUZZ_KEY_ID): that one is swapped
for a spare key (MEMLANE_FUZZ_SPARE_KEY_ID)."""
from __future__ import annotations

import json
import os

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def to_json_lines(ctx, value) -> bytes:
    records = value if isinstance(value, list) else [value]
    return "".join(json.dumps(record) + "\n" for record in records).encode()


@schemathesis.deserializer("application/x-ndjson")
def from_json_lines(ctx, response) -> list:
    return [json.loads(line) for line in response.content.decode().splitlines() if line]


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    params = case.path_parameters
    if params and params.get("key_id") == os.environ["MEMLANE_FUZZ_KEY_ID"]:
        params["key_id"] = os.environ["MEMLANE_FUZZ_SPARE_KEY_ID"]
