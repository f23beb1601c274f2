"""JWT access and refresh tokens: exchanged for a key, accepted by every door like a key,
refused when expired, tampered with, of the wrong kind, or (refresh) used twice."""
import json

import httpx
import pytest
from pydantic import ValidationError

from memlane import tokens
from memlane.config import load_settings
from support import add_user


@pytest.fixture
def auth_client(make_client):
    return make_client(auth_enabled=True)


def exchange(client, **body):
    return client.post("/api/auth/token", json=body)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_key_buys_tokens_that_work_like_the_key(auth_client):
    alice = add_user(auth_client, "alice")
    key = alice["Authorization"].split()[1]
    r = exchange(auth_client, api_key=key)
    assert r.status_code == 200
    got = r.json()
    assert got["token_type"] == "bearer" and got["expires_in"] == 900
    made = auth_client.post("/api/memories", json={"text": "Tea at five."},
                            headers=bearer(got["access_token"]))
    assert made.status_code == 201
    listed = auth_client.get("/api/memories", headers=alice).json()
    assert [m["id"] for m in listed["memories"]] == [made.json()["id"]]  # the same user
    assert auth_client.get("/v1/models", headers=bearer(got["access_token"])).status_code == 200
    with auth_client.websocket_connect("/ws/voice",
                                       headers=bearer(got["access_token"])) as ws:
        assert json.loads(ws.receive_text())["type"] == "ready"


def test_expired_tampered_or_wrong_kind_tokens_are_401(auth_client):
    alice = add_user(auth_client, "alice")
    got = exchange(auth_client, api_key=alice["Authorization"].split()[1]).json()
    secret = auth_client.app.state.engine.accounts.secret
    user_id = tokens.verify(secret, got["access_token"], "access")["sub"]
    expired, _ = tokens.sign(secret, user_id, "access", ttl_s=60, now=0)
    header, claims, signature = got["access_token"].split(".")
    forged = json.loads(tokens._unb64(claims)) | {"sub": "someone-else"}
    tampered = f"{header}.{tokens._encode(forged)}.{signature}"
    other_secret, _ = tokens.sign("not-the-server-secret", user_id, "access", ttl_s=60)
    for token, says in ((expired, "expired"), (tampered, "invalid"),
                        (other_secret, "invalid"), (got["refresh_token"], "not an access")):
        r = auth_client.get("/api/memories", headers=bearer(token))
        assert r.status_code == 401 and says in r.json()["detail"], (says, r.text)
    assert exchange(auth_client, api_key=got["access_token"]).status_code == 401
    assert exchange(auth_client, api_key="ml_wrong").status_code == 401
    assert exchange(auth_client, api_key="a", refresh_token="b").status_code == 422


def test_a_refresh_token_works_once(auth_client):
    alice = add_user(auth_client, "alice")
    first = exchange(auth_client, api_key=alice["Authorization"].split()[1]).json()
    second = exchange(auth_client, refresh_token=first["refresh_token"])
    assert second.status_code == 200
    assert auth_client.get("/api/memories",
                           headers=bearer(second.json()["access_token"])).status_code == 200
    again = exchange(auth_client, refresh_token=first["refresh_token"])
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    assert exchange(auth_client, refresh_token=second.json()["refresh_token"]).status_code == 200
    assert exchange(auth_client, refresh_token=first["access_token"]).status_code == 401


def test_a_published_or_short_secret_is_refused():
    for weak in ("memlane-development-secret", "changeme", "short-but-random-7f3a"):
        with pytest.raises(ValidationError, match="MEMLANE_JWT_SECRET"):
            load_settings(jwt_secret=weak)
    assert load_settings(jwt_secret="x" * 40).jwt_secret


def test_tokens_reach_the_openai_door_through_the_official_client(tmp_path):
    import asyncio

    import openai

    from memlane.api.app import create_app
    from support import free_port, seed_people, uvicorn_thread
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "t", port=port, auth_enabled=True,
                             embedder="hash", nlp="regex", llm="scripted", stt="tone",
                             vad="energy", tts="tone")
    keys = asyncio.run(seed_people(settings, {"alice": False}))
    with uvicorn_thread(create_app(settings), port) as url:
        got = httpx.post(url + "/api/auth/token", json={"api_key": keys["alice"]}).json()
        client = openai.OpenAI(base_url=url + "/v1", api_key=got["access_token"],
                               max_retries=0)
        assert "memlane" in [m.id for m in client.models.list()]
        expired, _ = tokens.sign("x" * 40, "x", "access", ttl_s=1, now=0)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key=expired,
                          max_retries=0).models.list()
