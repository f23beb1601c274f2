"""Hostile input through every door of one real server in multi-user mode (fake models):
REST, /v1 with the official `openai` client, every WebSocket, and `memlane import`. Each
case is refused or answered (never a 5xx or a 1011 close), within its time budget, and
leaves the stored data byte-for-byte as it was; the server is healthy after it."""
from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass

import httpx
import openai
import pytest
from click.testing import CliRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from memlane import tokens
from memlane.api.app import create_app
from memlane.cli import cli
from memlane.config import PUBLISHED_SECRETS, load_settings
from memlane.proto import memlane_pb2 as pb
from support import free_port, seed_people, uvicorn_thread

BUDGET_S = 5.0  # per request, on a loaded 2-core machine; fakes answer in milliseconds
FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}
TABLES = ["users", "memories", "chunks", "entities", "memory_entities", "relations",
          "history", "user_versions", "conversations", "messages", "summaries"]
SECRET = "Alice's locker code is hunter2g."


@dataclass
class Door:
    url: str
    app: object
    keys: dict[str, str]
    db: str
    conversation: str
    memory: str

    def headers(self, who: str | None) -> dict:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def snapshot(self) -> str:
        digest = hashlib.sha256()
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            queries = [f"SELECT * FROM {table}" for table in TABLES]
            queries.append("SELECT id, user_id, name, key_hash, revoked FROM api_keys")
            for query in queries:
                for row in sorted(map(repr, conn.execute(query))):
                    digest.update(row.encode())
        return digest.hexdigest()


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile")
    port = free_port()
    settings = load_settings(data_dir=data, port=port, auth_enabled=True,
                             rate_limit_per_minute=1_000_000, auth_failures_per_minute=0,
                             record_access=False,
                             extraction_enabled=False, ws_max_message_bytes=100_000,
                             **FAKES)
    keys = asyncio.run(seed_people(settings, {"root": True, "alice": False, "bob": False}))
    with uvicorn_thread(create_app(settings), port) as url:
        http = httpx.Client(base_url=url, timeout=30)
        alice = {"Authorization": f"Bearer {keys['alice']}"}
        memory = http.post("/api/memories", headers=alice, json={
            "text": SECRET, "metadata": {"place": "gym", "n": 1}}).json()["id"]
        http.post("/api/memories", headers={"Authorization": f"Bearer {keys['bob']}"},
                  json={"text": "Bob likes green tea."})
        conversation = http.post("/api/conversations", headers=alice, json={}).json()["id"]
        http.post("/api/chat", headers=alice, json={"conversation_id": conversation,
                                                     "message": "I like tulips."})
        yield Door(url, None, keys, str(data / "memlane.db"), conversation, memory)


@pytest.fixture
def unchanged(door):
    """The stored data before and after the case must be identical; the server alive."""
    before = door.snapshot()
    yield
    assert door.snapshot() == before, "the stored data changed"
    assert httpx.get(door.url + "/api/health/live", timeout=10).status_code == 200


def timed(call):
    start = time.perf_counter()
    out = call()
    took = time.perf_counter() - start
    assert took < BUDGET_S, f"took {took:.1f} s"
    return out


# REST --------------------------------------------------------------------------------
def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def forged(secret: str, subject: str = "local") -> str:
    now = int(time.time())
    claims = {"sub": subject, "typ": "access", "iat": now, "exp": now + 600, "jti": "x"}
    body = f"{tokens._encode(tokens.HEADER)}.{tokens._encode(claims)}"
    return f"{body}.{tokens._b64(tokens._mac(secret, body))}"


def unsigned() -> str:
    header = tokens._encode({"alg": "none", "typ": "JWT"})
    now = int(time.time())
    return f"{header}.{tokens._encode({'sub': 'local', 'typ': 'access', 'exp': now + 600})}."


JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
M = "/api/memories"
BODIES = {  # raw bodies POSTed to /api/memories
    "truncated": '{"text": "hello', "not json": "hello there", "empty": "",
    "array": '["text"]', "null": "null", "number": "42", "string": '"text"',
    "nan": '{"text": "x", "importance": NaN}', "infinity": '{"text": "x", "confidence": Infinity}',
    "huge int field": '{"text": "x", "importance": ' + "9" * 5000 + "}",
    "huge int metadata": '{"text": "x", "metadata": {"n": ' + "9" * 5000 + "}}",
    "int past 64 bits": '{"text": "x", "metadata": {"n": 18446744073709551616}}',
    "nested 40": '{"text": "x", "metadata": ' + nested(40) + "}",
    "nested 500": '{"text": "x", "metadata": ' + nested(500) + "}",
    "nested 1100": '{"text": "x", "metadata": ' + nested(1100) + "}",
    "arrays 1100": '{"text": "x", "metadata": {"a": ' + "[" * 1100 + "]" * 1100 + "}}",
    "long key": '{"text": "x", "metadata": {"' + "k" * 1000 + '": 1}}',
    "big metadata": '{"text": "x", "metadata": {"v": "' + "x" * 100_000 + '"}}',
    "surrogate key": '{"text": "x", "metadata": {"k\\ud800": 1}}',
    "surrogate text": '{"text": "hi \\ud800"}', "low surrogate": '{"text": "\\udfff x"}',
    "reversed pair": '{"text": "\\ude00\\ud83d"}', "blank": '{"text": "   "}',
    "text too long": json.dumps({"text": "x " * 30_000}), "wrong type": '{"text": 5}',
    "extra field": '{"text": "x", "owner": "bob"}',
    "user_id field": '{"text": "x", "user_id": "b"}',
    "bad type": '{"text": "x", "type": "gossip"}', "bad source": '{"text": "x", "source": "god"}',
    "bad date": '{"text": "x", "occurred_at": "yesterday-ish"}',
    "date overflow": '{"text": "x", "occurred_at": "9999-12-31T23:59:59-23:59"}',
    "year zero": '{"text": "x", "occurred_at": "0000-01-01T00:00:00"}',
    "importance 2": '{"text": "x", "importance": 2}', "client id long": json.dumps(
        {"text": "x", "client_id": "c" * 5000}),
    "duplicate keys": '{"text": "x", "text": 5}', "bom": "\ufeff{\"text\": 5}",
    "nul in json": '{"text": "x\\u0000", "type": "nope"}',
}
SEARCHES = [  # hostile queries are answered (200), not fatal
    '" OR 1=1 --', "NEAR(a b)", "owner:u0 OR text:*", "^start* AND -x", '""""',
    "what did I do 1000000 days ago", "99999999999 years ago", "2147483648 weeks ago",
    "since 9999-12-31", "after 9999-12-31", "on 31 december 9999", "before 0001-01-01",
    "\u202eevil\u202c", "zero\u200bwidth", "\U0001F600" * 500, "w " * 900, "x" * 2000,
    "hunter2g", "'; DROP TABLE memories; --", "\\x00\\x01", "%s%s%n", "{{7*7}}",
    "../../etc/passwd", "<script>alert(1)</script>", "u616c69636530 hunter2g",
]
REST = [  # (name, method, path, who, kwargs, statuses allowed)
    *[(f"body {k}", "POST", M, "bob", {"content": v.encode(), "headers": JSON}, "4xx")
      for k, v in BODIES.items()],
    ("utf-16 body", "POST", M, "bob", {"content": '{"text": "x"}'.encode("utf-16"),
                                       "headers": JSON}, "4xx"),
    ("raw surrogate bytes", "POST", M, "bob", {"content": b'{"text": "\xed\xa0\x80"}',
                                               "headers": JSON}, "4xx"),
    ("invalid utf-8", "POST", M, "bob", {"content": b'{"text": "\xff\xfe"}', "headers": JSON},
     "4xx"),
    ("text/plain", "POST", M, "bob", {"content": b"remember this", "headers": {
        "content-type": "text/plain"}}, "4xx"),
    ("xml", "POST", M, "bob", {"content": b"<text>x</text>", "headers": {
        "content-type": "application/xml"}}, "4xx"),
    ("form", "POST", M, "bob", {"data": {"text": "x"}}, "4xx"),
    ("multipart", "POST", M, "bob", {"files": {"text": ("a.txt", b"x")}}, "4xx"),
    ("3 MB body", "POST", M, "bob", {"content": b"x" * 3_000_000, "headers": JSON}, {413}),
    ("3 MB chunked", "POST", M, "bob", {"content": iter([b"x" * 500_000] * 6),
                                        "headers": JSON}, {413}),
    ("batch empty", "POST", M + "/batch", "bob", {"json": {"memories": []}}, "4xx"),
    ("batch 600", "POST", M + "/batch", "bob", {"json": {"memories": [
        {"text": f"t{i}"} for i in range(600)]}}, "4xx"),
    ("batch one bad", "POST", M + "/batch", "bob", {"json": {"memories": [
        {"text": "fine"}, {"text": "x", "metadata": json.loads(nested(40))}]}}, "4xx"),
    *[(f"search {q[:24]!r}", "POST", "/api/search", "bob", {"json": {"query": q}}, {200})
      for q in SEARCHES],
    ("search too long", "POST", "/api/search", "bob", {"json": {"query": "x" * 2001}}, "4xx"),
    ("search limit huge", "POST", "/api/search", "bob", {"json": {"query": "t",
                                                                  "limit": 10**30}}, "4xx"),
    ("search filter deep", "POST", "/api/search", "bob", {"json": {
        "query": "t", "filters": {"metadata": json.loads(nested(40))}}}, "4xx"),
    ("search filter 1000 keys", "POST", "/api/search", "bob", {"json": {
        "query": "t", "filters": {"metadata": {f"k{i}": i for i in range(1000)}}}}, "4xx"),
    ("search 100k types", "POST", "/api/search", "bob", {"json": {
        "query": "t", "types": ["semantic"] * 100_000}}, {200}),
    ("list filter 40 keys", "GET", M, "bob", {"params": {"metadata": json.dumps(
        {f"k{i}": i for i in range(40)})}}, "4xx"),
    ("search since > until", "POST", "/api/search", "bob", {"json": {
        "query": "t", "filters": {"since": "2030-01-01", "until": "2020-01-01"}}}, {200}),
    ("search alice's text as bob", "POST", "/api/search", "bob",
     {"json": {"query": "locker code hunter2g"}}, {200}),
    *[(f"metadata param {k}", "GET", M, "bob", {"params": {"metadata": v}}, "4xx")
      for k, v in {"huge int": '{"a": ' + "9" * 5000 + "}", "deep": nested(1100),
                   "arrays": "[" * 1100 + "]" * 1100, "not object": "[1]", "garbage": "{",
                   "surrogate": '{"k\\ud800": 1}', "nan": '{"a": NaN}',
                   "long key": '{"' + "k" * 500 + '": 1}'}.items()],
    *[(f"list {k}", "GET", M, "bob", {"params": v}, "4xx") for k, v in {
        "limit 0": {"limit": 0}, "limit huge": {"limit": 10**30}, "offset huge":
        {"offset": 2**64}, "offset negative": {"offset": -1}, "type bogus": {"type": "x"},
        "since garbage": {"since": "soon"}, "entity long": {"entity": "e" * 300}}.items()],
    *[(f"path {k}", "GET", f"{M}/{v}", "bob", {}, "4xx") for k, v in {
        "alice's memory": "{memory}", "long id": "i" * 10_000, "dots": "..%2F..%2Fetc",
        "nul": "%00", "surrogate": "%ED%A0%80", "emoji": "\U0001F600",
        "sql": "1'%20OR%20'1'='1"}.items()],
    ("patch alice's memory", "PATCH", f"{M}/{{memory}}", "bob", {"json": {"text": "mine"}},
     "4xx"),
    ("delete alice's memory", "DELETE", f"{M}/{{memory}}", "bob", {}, "4xx"),
    ("history of alice's memory", "GET", f"{M}/{{memory}}/history", "bob", {}, "4xx"),
    ("patch deep metadata", "PATCH", f"{M}/{{memory}}", "alice", {"json": {
        "metadata": json.loads(nested(40))}}, "4xx"),
    ("patch surrogate", "PATCH", f"{M}/{{memory}}", "alice", {
        "content": b'{"text": "x\\ud800"}', "headers": JSON}, "4xx"),
    ("delete all unconfirmed", "DELETE", M, "bob", {}, "4xx"),
    ("alice's conversation", "GET", "/api/conversations/{conversation}", "bob", {}, "4xx"),
    ("chat in alice's conversation", "POST", "/api/chat", "bob", {"json": {
        "conversation_id": "{conversation}", "message": "what did I say?"}}, "4xx"),
    ("chat surrogate", "POST", "/api/chat", "alice", {
        "content": b'{"message": "hi \\ud800"}', "headers": JSON}, "4xx"),
    ("chat empty", "POST", "/api/chat", "alice", {"json": {"message": ""}}, "4xx"),
    ("chat huge", "POST", "/api/chat", "alice", {"json": {"message": "x" * 30_000}}, "4xx"),
    ("ask surrogate", "POST", "/api/ask", "bob", {"content": b'{"question": "\\ud800?"}',
                                                   "headers": JSON}, "4xx"),
    ("ask empty", "POST", "/api/ask", "bob", {"json": {"question": ""}}, "4xx"),
    ("emotions of alice's conversation", "GET", "/api/emotions", "bob",
     {"params": {"conversation_id": "{conversation}"}}, "4xx"),
    ("entities long query", "GET", "/api/entities", "bob", {"params": {"query": "q" * 5000}},
     {200, 422}),
    *[(f"v1 {k}", "POST", f"/v1/{p}", "bob", {"content": b.encode(), "headers": JSON}, "4xx")
      for k, (p, b) in {  # the official client cannot even send these: it encodes UTF-8
          "surrogate content": ("chat/completions", '{"model": "memlane", "messages": '
                                '[{"role": "user", "content": "hi \\ud800"}]}'),
          "surrogate system": ("chat/completions", '{"model": "memlane", "messages": [{"role":'
                               ' "system", "content": "\\udc00"}, {"role": "user", '
                               '"content": "hi"}]}'),
          "surrogate stream": ("chat/completions", '{"model": "memlane", "stream": true, '
                               '"messages": [{"role": "user", "content": "\\ud800"}]}'),
          "surrogate embeddings": ("embeddings", '{"model": "memlane", '
                                   '"input": ["x \\ud800"]}'),
          "deep messages": ("chat/completions", '{"model": "memlane", "messages": '
                            + "[" * 1100 + "]" * 1100 + "}"),
          "truncated": ("chat/completions", '{"model": "memlane", "messages": [{"ro'),
      }.items()],
    ("analytics of all as user", "GET", "/api/analytics", "bob", {"params": {"all": "true"}},
     "4xx"),
    ("analytics bad window", "GET", "/api/analytics", "bob", {"params": {"since": "x"}},
     "4xx"),
    *[(f"import {k}", "POST", M + "/import", "bob", {"content": v.encode(), "headers": NDJSON},
       "4xx") for k, v in {
        "bad line": '{"text": "fine"}\n{oops', "surrogate line": '{"text": "\\ud800"}',
        "600 records": "\n".join(json.dumps({"text": f"r{i}"}) for i in range(600))}.items()],
    *[(f"import {k}", "POST", M + "/import", "bob", {"content": v.encode(), "headers": NDJSON},
       {200}) for k, v in {  # reported as that record's error
        "deep line": '{"text": "x", "metadata": ' + nested(1100) + "}",
        "huge int line": '{"text": "x", "n": ' + "9" * 5000 + "}",
        "deep record": '{"text": "x", "metadata": ' + nested(40) + "}"}.items()],
    ("import empty", "POST", M + "/import", "bob", {"content": b"", "headers": NDJSON},
     {200}),
    ("import record errors only", "POST", M + "/import", "bob", {
        "content": b'[1]\n"text"\n{"text": ""}\n{"text": "x", "type": "gossip"}\n'
                   b'{"text": "x", "metadata": {"k": NaN}}', "headers": NDJSON}, {200, 400}),
    *[(f"admin {m} {p}", m, p, "bob", {"json": {"name": "mallory"}} if m == "POST" else {},
       {403}) for m, p in (("GET", "/api/admin/users"), ("POST", "/api/admin/users"),
                           ("GET", "/api/admin/keys"), ("DELETE", "/api/admin/users/alice"),
                           ("POST", "/api/admin/users/alice/revoke-tokens"))],
    ("admin create surrogate name", "POST", "/api/admin/users", "root", {
        "content": b'{"name": "m\\ud800"}', "headers": JSON}, "4xx"),
    ("admin create deep", "POST", "/api/admin/users", "root", {
        "content": ('{"name": ' + nested(1100) + "}").encode(), "headers": JSON}, "4xx"),
    *[(f"forged token {s}", "GET", "/api/admin/users", None, {"headers": {
        "Authorization": f"Bearer {forged(s)}"}}, {401}) for s in sorted(PUBLISHED_SECRETS)],
    ("forged alg none", "GET", "/api/admin/users", None, {"headers": {
        "Authorization": f"Bearer {unsigned()}"}}, {401}),
    ("token garbage", "GET", M, None, {"headers": {"Authorization": "Bearer eyJ.eyJ.x"}},
     {401}),
    ("bearer 10 KB", "GET", M, None, {"headers": {"Authorization": "Bearer " + "k" * 10_000}},
     {401}),
    ("basic auth", "GET", M, None, {"headers": {"Authorization": "Basic cm9vdDpyb290"}},
     {401}),
    ("no auth", "GET", M, None, {}, {401}),
    *[(f"password guess {i}", "POST", "/api/auth/token", None, {
        "json": {"username": "alice", "password": f"guess-{i}"},
        "headers": {"Authorization": f"Bearer bogus-{i}"}}, {401, 429}) for i in range(8)],
    ("token surrogate password", "POST", "/api/auth/token", None, {
        "content": b'{"username": "alice", "password": "\\ud800\\ud800\\ud800"}',
        "headers": JSON}, "4xx"),
    ("refresh garbage", "POST", "/api/auth/token", None, {"json": {"refresh_token": "x.y.z"}},
     {401}),
    ("request id 10 KB", "GET", M, "bob", {"headers": {"X-Request-ID": "r" * 10_000}}, {200}),
    ("put on memories", "PUT", M, "bob", {"json": {}}, "4xx"),
    ("unknown path", "GET", "/api/../../etc/passwd", "bob", {}, "4xx"),
]


@pytest.mark.parametrize("case", REST, ids=[c[0] for c in REST])
def test_rest(door, unchanged, case):
    _, method, path, who, kwargs, allowed = case
    path = path.format(memory=door.memory, conversation=door.conversation)
    kwargs = json.loads(json.dumps(kwargs).replace("{memory}", door.memory).replace(
        "{conversation}", door.conversation)) if "json" in kwargs else dict(kwargs)
    headers = {**door.headers(who), **kwargs.pop("headers", {})}
    r = timed(lambda: httpx.request(method, door.url + path, headers=headers, timeout=30,
                                    **kwargs))
    assert r.status_code < 500, r.text[:500]
    assert (400 <= r.status_code < 500) if allowed == "4xx" else r.status_code in allowed, \
        (r.status_code, r.text[:300])
    assert SECRET not in r.text or who == "alice"


# /v1 with the official client ----------------------------------------------------------
def _messages(content) -> list:
    return [{"role": "user", "content": content}]


V1 = {
    "no messages": lambda c: c.chat.completions.create(model="memlane", messages=[]),
    "bad role": lambda c: c.chat.completions.create(
        model="memlane", messages=[{"role": "god", "content": "x"}]),
    "content huge": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("x " * 600_000)),
    "content parts junk": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages([{"type": "image_url", "image_url": {
            "url": "file:///etc/passwd"}}])),
    "max tokens negative": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("hi"), max_tokens=-1),
    "max tokens huge": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("hi"), max_tokens=10**12),
    "temperature 1e9": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("hi"), temperature=1e9),
    "n 1000": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("hi"), n=1000),
    "deep extra body": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("hi"),
        extra_body={"metadata": json.loads(nested(40))}),
    "stream bad options": lambda c: list(c.chat.completions.create(
        model="memlane", messages=_messages("hi"), stream=True,
        stream_options={"include_usage": "yes please"})),
    "user alice from bob": lambda c: c.chat.completions.create(
        model="memlane", messages=_messages("What is my locker code?"), user="alice"),
    "embeddings empty": lambda c: c.embeddings.create(model="memlane", input=[]),
    "embeddings empty string": lambda c: c.embeddings.create(model="memlane", input=""),
    "embeddings 5000 inputs": lambda c: c.embeddings.create(
        model="memlane", input=["x"] * 5000),
    "embeddings token ids": lambda c: c.embeddings.create(model="memlane",
                                                          input=[[1, 2, 3]]),
    "embeddings bad format": lambda c: c.embeddings.create(
        model="memlane", input="x", encoding_format="morse"),
    "embeddings dimensions": lambda c: c.embeddings.create(model="memlane", input="x",
                                                           dimensions=-5),
    "unknown model": lambda c: c.models.retrieve("../../etc/passwd"),
    "model id surrogate": lambda c: c.models.retrieve("%ED%A0%80"),
}


@pytest.mark.parametrize("name", list(V1))
def test_openai_door(door, unchanged, name):
    client = openai.OpenAI(base_url=door.url + "/v1", api_key=door.keys["bob"],
                           max_retries=0, timeout=30)
    try:
        out = timed(lambda: V1[name](client))
    except openai.APIStatusError as exc:
        assert 400 <= exc.status_code < 500, exc.message
        assert isinstance(exc.body, dict) and "message" in exc.body, exc.body
    except openai.APIConnectionError as exc:
        pytest.fail(f"connection failed: {exc}")
    else:
        assert SECRET not in json.dumps(out, default=str)


@pytest.mark.parametrize("secret", sorted(PUBLISHED_SECRETS)[:4])
def test_openai_door_refuses_forged_tokens(door, unchanged, secret):
    client = openai.OpenAI(base_url=door.url + "/v1", api_key=forged(secret),
                           max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError):
        timed(client.models.list)


# WebSockets ----------------------------------------------------------------------------
PROTO = ["/ws/transcribe", "/ws/memory", "/ws/ask"]
VOICE = ["/ws/voice", "/ws/assistant"]
PROTO_FRAMES = {
    "garbage": b"\xff\x00garbage", "text frame": "hello", "empty": b"",
    "empty message": pb.ClientMessage().SerializeToString(),
    "truncated": pb.ClientMessage(text=pb.Text(text="x" * 50)).SerializeToString()[:10],
    "bad audio": pb.ClientMessage(audio=pb.Audio(data=b"\x01" * 333, encoding=99))
    .SerializeToString(),
    "deep commit metadata": pb.ClientMessage(commit=pb.Commit(
        metadata={"k" * 300: "v"})).SerializeToString(),
    "commit bad type": pb.ClientMessage(commit=pb.Commit(type="gossip")).SerializeToString(),
    "empty question": pb.ClientMessage(question=pb.Question(text="")).SerializeToString(),
    "oversize": b"\x00" * 200_000,
}
VOICE_FRAMES = {
    "not json": "{oops", "surrogate": '{"type": "text", "text": "\\ud800"}',
    "deep": '{"type": "text", "x": ' + nested(1100) + "}",
    "huge int": '{"type": "start", "sample_rate": ' + "9" * 5000 + "}",
    "array": "[1, 2]", "unknown type": '{"type": "dance"}',
    "bad rate": '{"type": "start", "sample_rate": -1}', "empty text": '{"type": "text"}',
    "garbage audio": b"\x01\x02" * 501, "oversize": "x" * 200_000,
}
WS = [(p, k) for p in PROTO for k in PROTO_FRAMES] + [(p, k) for p in VOICE
                                                      for k in VOICE_FRAMES]


def _ws(door: Door, path: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else None
    query = f"?conversation_id={door.conversation}" if path in VOICE else ""
    return connect(door.url.replace("http", "ws") + path + query, additional_headers=headers,
                   max_size=None, open_timeout=10)


def _status(message) -> int | None:
    if isinstance(message, str):
        data = json.loads(message)
        return data.get("status") if data.get("type") == "error" else 200
    parsed = pb.ServerMessage.FromString(message)
    return parsed.error.status if parsed.WhichOneof("body") == "error" else 200


def _answers(ws) -> list:
    """Status of every message until the socket is quiet; its close code, if it closed."""
    statuses = []
    try:
        while True:
            statuses.append(_status(ws.recv(timeout=0.5)))
    except TimeoutError:
        return [statuses, None]
    except ConnectionClosed as exc:
        return [statuses, exc.rcvd.code if exc.rcvd else None]


@pytest.mark.parametrize("path,frame", WS, ids=[f"{p} {k}" for p, k in WS])
def test_websocket(door, unchanged, path, frame):
    frames = PROTO_FRAMES if path in PROTO else VOICE_FRAMES
    with _ws(door, path, door.keys["alice"]) as ws:
        _answers(ws)  # ready (and listening)
        ws.send(frames[frame])
        statuses, code = timed(lambda: _answers(ws))
    assert code in (None, 1008, 1009), code
    assert all(s is None or s < 500 or s == 503 for s in statuses), statuses
    if frame == "oversize":
        assert code == 1009


@pytest.mark.parametrize("path", PROTO + VOICE)
@pytest.mark.parametrize("key", ["forged", "bogus", "none"])
def test_websocket_refuses_bad_credentials(door, unchanged, path, key):
    secret = {"forged": forged("memlane-development-secret"), "bogus": "ml_bogus",
              "none": None}[key]
    with _ws(door, path, secret) as ws:
        if secret is None:
            ws.send(b"\x00junk" if path in PROTO else '{"type": "auth", "api_key": 5}')
        statuses, code = timed(lambda: _answers(ws))
    assert code == 1008 and 401 in statuses, (statuses, code)


# memlane import ------------------------------------------------------------------------
IMPORTS = {
    "deep": '{"text": "x", "metadata": ' + nested(1100) + "}",
    "deep for the server": '{"text": "x", "metadata": ' + nested(500) + "}",
    "huge int": '{"text": "x", "n": ' + "9" * 5000 + "}",
    "surrogate": '{"text": "\\ud800"}', "not json": "{oops",
    "not an object": "[1, 2, 3]", "blank text": '{"text": " "}',
}


@pytest.mark.parametrize("name", list(IMPORTS))
def test_memlane_import(door, unchanged, tmp_path, name):
    file = tmp_path / "hostile.jsonl"
    file.write_text(IMPORTS[name] + "\n")
    result = timed(lambda: CliRunner().invoke(
        cli, ["import", str(file), "--url", door.url, "--key", door.keys["bob"]]))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.output
    imported = json.loads(result.stdout.strip().splitlines()[-1]) if result.exit_code == 0 \
        else {"imported": 0}
    assert imported["imported"] == 0


def test_the_server_is_healthy_and_answers_after_it_all(door):
    health = httpx.get(door.url + "/api/health", timeout=10).json()
    assert health["status"] == "ok" and health["database"]["reachable"]
    found = httpx.post(door.url + "/api/search", headers=door.headers("alice"),
                       json={"query": "locker code"}, timeout=10).json()
    assert found["results"][0]["memory"]["id"] == door.memory
    bob = httpx.post(door.url + "/api/search", headers=door.headers("bob"),
                     json={"query": "locker code hunter2g"}, timeout=10).text
    assert SECRET not in bob


def test_at_least_150_hostile_requests():
    total = len(REST) + len(V1) + 4 + len(WS) + 3 * 5 + len(IMPORTS)
    assert total >= 150, total
