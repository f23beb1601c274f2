"""Authentication and authorisation through every door of one real server (uvicorn, fake
models): REST, /v1 (with the official `openai` client) and every WebSocket (with a real
`websockets` client). Bad credentials of every kind get 401 (and close code 1008 on a
socket), a user key on admin endpoints gets 403, another user's ids answer 404."""
from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import openai
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from memlane import tokens
from memlane.accounts import Accounts
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.models import create
from memlane.proto import memlane_pb2 as pb
from support import free_port, uvicorn_thread

FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}
SOCKETS = ["/ws/transcribe", "/ws/memory", "/ws/ask", "/ws/voice", "/ws/assistant"]
SECRET = "Alice's locker combination is 31-7-22."


class Server:
    def __init__(self, url: str, app, keys: dict[str, str], ids: dict[str, str]):
        self.url, self.app, self.keys, self.ids = url, app, keys, ids
        self.http = httpx.Client(base_url=url, timeout=30)

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def rest(self, method: str, path: str, key: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.request(method, path, headers=headers, **kwargs)

    def openai(self, key: str | None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key or "", max_retries=0)

    def socket(self, path: str, key: str | None):
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return connect(self.url.replace("http", "ws") + path, additional_headers=headers,
                       max_size=None, open_timeout=10)


async def _seed(settings) -> tuple[dict, dict]:
    store = create("store", settings.store, settings)
    await store.open()
    try:
        accounts, keys, ids = Accounts(store, settings), {}, {}
        for name, admin in {"root": True, "alice": False, "bob": False, "carol": False}.items():
            user = await accounts.create_user(name, is_admin=admin, password=f"{name}-pass-1")
            keys[name] = (await accounts.create_key(user.id))[1]
            ids[name] = user.id
        await accounts.change(ids["carol"], disabled=True)
        return keys, ids
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    settings = load_settings(data_dir=tmp_path_factory.mktemp("auth"), port=port,
                             auth_enabled=True, rate_limit_per_minute=10_000,
                             auth_failures_per_minute=0, **FAKES)
    keys, ids = asyncio.run(_seed(settings))
    app = create_app(settings)
    with uvicorn_thread(app, port) as url:
        yield Server(url, app, keys, ids)


def _token(server: Server, who: str, **claims) -> str:
    secret = server.app.state.engine.accounts.secret
    token, _ = tokens.sign(secret, server.ids[who], "access", 600, **claims)
    return token


def _tampered(token: str, user_id: str) -> str:
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": user_id}).encode())
    return f"{header}.{forged.rstrip(b'=').decode()}.{signature}"


def _refused_credentials(server: Server) -> dict[str, str | None]:
    return {
        "no key": None,
        "unknown key": "ml_not-a-key",
        "disabled user's key": server.keys["carol"],
        "expired token": _token(server, "alice", now=time.time() - 3600),
        "tampered token": _tampered(_token(server, "bob"), server.ids["root"]),
        "token signed with another secret": tokens.sign("another", server.ids["alice"],
                                                        "access", 600)[0],
        "refresh token used as access": tokens.sign(
            server.app.state.engine.accounts.secret, server.ids["alice"], "refresh",
            600)[0],
    }


def _socket_status(server: Server, path: str, key: str | None) -> tuple[int, int | None]:
    """The first answer's status (200 for ready) and the close code, if it closed."""
    with server.socket(path, key) as ws:
        if key is None:  # no header: the first message must carry the key
            ws.send(json.dumps({"type": "hello"}) if "voice" in path or "assistant" in path
                    else pb.ClientMessage(end=pb.EndOfStream()).SerializeToString())
        first = ws.recv(timeout=10)
        status = _status_of(first)
        if status == 200:
            return status, None
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return status, closed.value.rcvd.code


def _status_of(message: str | bytes) -> int:
    if isinstance(message, str):
        body = json.loads(message)
        return 200 if body.get("type") == "ready" else body["status"]
    parsed = pb.ServerMessage()
    parsed.ParseFromString(message)
    return 200 if parsed.WhichOneof("body") == "ready" else parsed.error.status


def test_every_door_refuses_every_bad_credential(server):
    for what, key in _refused_credentials(server).items():
        r = server.rest("GET", "/api/memories", key)
        assert r.status_code == 401, (what, r.text)
        assert r.json()["code"] == "unauthorized"
        if key is None:  # the openai client always sends a key
            v1 = server.rest("POST", "/v1/chat/completions", json={"model": "memlane",
                             "messages": [{"role": "user", "content": "hi"}]})
            assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"
        else:
            with pytest.raises(openai.AuthenticationError) as refused:
                server.openai(key).chat.completions.create(
                    model="memlane", messages=[{"role": "user", "content": "hi"}])
            assert refused.value.status_code == 401, what
        for path in SOCKETS:
            assert _socket_status(server, path, key) == (401, 1008), (what, path)


def test_a_key_and_its_access_token_open_every_door(server):
    token = server.rest("POST", "/api/auth/token",
                        json={"api_key": server.keys["alice"]}).json()["access_token"]
    for key in (server.keys["alice"], token):
        assert server.rest("GET", "/api/auth/me", key).json()["name"] == "alice"
        reply = server.openai(key).chat.completions.create(
            model="memlane", messages=[{"role": "user", "content": "hello"}])
        assert reply.choices[0].message.content
        for path in SOCKETS:
            assert _socket_status(server, path, key) == (200, None), path


def test_passwords_and_refresh_tokens_work_once(server):
    assert server.rest("POST", "/api/auth/token", json={
        "username": "bob", "password": "wrong-password"}).status_code == 401
    assert server.rest("POST", "/api/auth/token", json={
        "username": "carol", "password": "carol-pass-1"}).status_code == 401  # disabled
    issued = server.rest("POST", "/api/auth/token",
                         json={"username": "bob", "password": "bob-pass-1"}).json()
    again = server.rest("POST", "/api/auth/token",
                        json={"refresh_token": issued["refresh_token"]})
    assert again.status_code == 200
    assert server.rest("GET", "/api/auth/me", again.json()["access_token"]).status_code == 200
    spent = server.rest("POST", "/api/auth/token",
                        json={"refresh_token": issued["refresh_token"]})
    assert spent.status_code == 401 and "already used" in spent.json()["detail"]


def test_revoked_tokens_fail_everywhere_and_keys_still_work(server):
    fresh = server.rest("POST", "/api/auth/token",
                        json={"api_key": server.keys["bob"]}).json()
    assert server.rest("POST", "/api/auth/revoke", fresh["access_token"]).status_code == 204
    assert server.rest("GET", "/api/memories", fresh["access_token"]).status_code == 401
    assert _socket_status(server, "/ws/ask", fresh["access_token"]) == (401, 1008)
    assert server.rest("POST", "/api/auth/token", json={
        "refresh_token": fresh["refresh_token"]}).status_code == 401
    assert server.rest("GET", "/api/memories", server.keys["bob"]).status_code == 200


ADMIN_CALLS = [("GET", "/api/admin/users", None), ("POST", "/api/admin/users", {"name": "eve"}),
               ("GET", "/api/admin/users/alice", None),
               ("PATCH", "/api/admin/users/bob", {"disabled": True}),
               ("DELETE", "/api/admin/users/bob", None),
               ("POST", "/api/admin/users/bob/keys", {}),
               ("POST", "/api/admin/users/bob/revoke-tokens", None),
               ("GET", "/api/admin/keys", None), ("DELETE", "/api/admin/keys/x", None)]


def test_user_credentials_on_admin_endpoints_get_403(server):
    token = server.rest("POST", "/api/auth/token",
                        json={"api_key": server.keys["alice"]}).json()["access_token"]
    for key in (server.keys["alice"], token):
        for method, path, body in ADMIN_CALLS:
            r = server.rest(method, path, key, json=body)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (method, path)
    names = [u["name"] for u in server.rest("GET", "/api/admin/users",
                                            server.keys["root"]).json()]
    assert "eve" not in names and "bob" in names, "nothing was done by the refused calls"


def test_admin_creates_disables_and_enables_a_user_across_doors(server):
    root = server.keys["root"]
    made = server.rest("POST", "/api/admin/users", root, json={"name": "dave"})
    assert made.status_code == 201 and made.json()["user"]["is_admin"] is False
    key = made.json()["key"]["api_key"]
    token = server.rest("POST", "/api/auth/token", json={"api_key": key}).json()
    assert server.rest("GET", "/api/memories", key).status_code == 200
    off = server.rest("PATCH", "/api/admin/users/dave", root, json={"disabled": True})
    assert off.json()["disabled"] is True
    for credential in (key, token["access_token"]):
        assert server.rest("GET", "/api/memories", credential).status_code == 401
        with pytest.raises(openai.AuthenticationError):
            server.openai(credential).models.list()
        assert _socket_status(server, "/ws/voice", credential) == (401, 1008)
    server.rest("PATCH", "/api/admin/users/dave", root, json={"disabled": False})
    assert server.rest("GET", "/api/memories", key).status_code == 200
    assert server.rest("GET", "/api/memories", token["access_token"]).status_code == 401, \
        "tokens issued before disabling stay revoked"
    second = server.rest("POST", "/api/admin/users/dave/keys", root, json={"name": "laptop"})
    assert server.rest("GET", "/api/auth/me", second.json()["api_key"]).status_code == 200
    server.rest("DELETE", f"/api/admin/keys/{second.json()['key']['id']}", root)
    assert server.rest("GET", "/api/auth/me", second.json()["api_key"]).status_code == 401
    assert server.rest("PATCH", "/api/admin/users/root", root,
                       json={"disabled": True}).status_code == 400, "no admin lock-out"


def test_another_users_ids_are_404_on_every_door(server):
    alice, bob = server.keys["alice"], server.keys["bob"]
    memory = server.rest("POST", "/api/memories", alice, json={"text": SECRET}).json()
    chat = server.rest("POST", "/api/conversations", alice, json={}).json()
    for path in (f"/api/memories/{memory['id']}", f"/api/conversations/{chat['id']}",
                 f"/api/conversations/{chat['id']}/messages",
                 f"/api/emotions?conversation_id={chat['id']}"):
        r = server.rest("GET", path, bob)
        assert r.status_code == 404 and SECRET not in r.text, path
    assert server.rest("DELETE", f"/api/memories/{memory['id']}", bob).status_code == 404
    for path in ("/ws/voice", "/ws/assistant"):
        assert _socket_status(server, f"{path}?conversation_id={chat['id']}", bob) == (404, 1008)
    llm = server.app.state.engine.llm
    before = len(llm.calls)
    server.openai(bob).chat.completions.create(  # naming alice as the end user grants nothing
        model="memlane", user="alice", messages=[{"role": "user", "content": "locker?"}])
    assert llm.calls[before:] and all(SECRET not in json.dumps(c["messages"])
                                      for c in llm.calls[before:])
    assert server.rest("GET", f"/api/memories/{memory['id']}", alice).json()["text"] == SECRET
