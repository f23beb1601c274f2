"""How sockets refuse, as the README says: a spent key's handshake is accepted and closed
with 1013, a revoked key gets 401 then 1008; typed commits need no speech; hostile JSON
frames get an error and the socket stays usable."""
from __future__ import annotations

import json

import httpx
import pytest
from test_ws_doors import ready, recv, send, serving, until
from websockets.exceptions import ConnectionClosed, InvalidStatus

from memlane.proto import memlane_pb2 as pb

SOCKETS = ["/ws/transcribe", "/ws/memory", "/ws/ask", "/ws/voice", "/ws/assistant"]


@pytest.mark.parametrize("path", SOCKETS)
def test_a_spent_keys_handshake_is_closed_with_1013(tmp_path, path):
    with serving(tmp_path, people={"alice": False}, auth_enabled=True,
                 rate_limit_per_minute=2) as served:
        for _ in range(2):
            httpx.get(served.url + "/api/auth/me", headers=served.headers("alice"))
        try:
            with served.ws(path, "alice") as ws, pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        except InvalidStatus as exc:  # HTTP 403 before this fix
            pytest.fail(f"handshake refused with HTTP {exc.response.status_code}")
        assert closed.value.rcvd.code == 1013 and "try again" in closed.value.rcvd.reason


@pytest.mark.parametrize("path", SOCKETS)
def test_a_revoked_keys_handshake_gets_401_then_1008(tmp_path, path):
    with serving(tmp_path, people={"root": True, "alice": False},
                 auth_enabled=True) as served:
        admin = httpx.Client(base_url=served.url, headers=served.headers("root"))
        key_id = admin.get("/api/admin/keys", params={"user": "alice"}).json()[0]["id"]
        assert admin.delete(f"/api/admin/keys/{key_id}").status_code == 204
        with served.ws(path, "alice") as ws:
            first = ws.recv(timeout=10)
            status = (json.loads(first)["status"] if isinstance(first, str)
                      else pb.ServerMessage.FromString(first).error.status)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert status == 401 and closed.value.rcvd.code == 1008


def test_typed_chunks_commit_with_voice_off(tmp_path):
    with serving(tmp_path, voice_enabled=False) as served, served.ws("/ws/memory") as ws:
        ready(ws)
        send(ws, text=pb.Text(text="The gate code is"))
        send(ws, text=pb.Text(text="hunter2g."))
        send(ws, request_id="c1", commit=pb.Commit(metadata={"place": "gate"}))
        committed = until(ws, "committed")[-1].committed
        assert committed.created and committed.text == "The gate code is hunter2g."
        send(ws, audio=pb.Audio(data=b"\0" * 640))  # speech itself is still off
        assert recv(ws).error.status == 503


def test_commit_metadata_out_of_bounds_is_an_error_not_a_crash(tmp_path):
    with serving(tmp_path) as served, served.ws("/ws/memory") as ws:
        ready(ws)
        send(ws, text=pb.Text(text="Long keys."))
        send(ws, commit=pb.Commit(metadata={"k" * 300: "v"}))
        assert recv(ws).error.status == 422
        send(ws, commit=pb.Commit(metadata={"k": "v"}))
        assert until(ws, "committed")[-1].committed.created


@pytest.mark.parametrize("frame", ['{"type": "text", "text": "hi \\ud800"}',
                                   '{"type": "text", "text": ' + "[" * 1100 + "]" * 1100 + "}",
                                   '{"type": "text", "n": ' + "9" * 5000 + "}"])
def test_voice_json_frames_past_bounds_get_400_and_the_socket_goes_on(tmp_path, frame):
    with serving(tmp_path) as served, served.ws("/ws/voice") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        assert json.loads(ws.recv(timeout=10))["state"] == "listening"
        ws.send(frame)
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and reply["status"] == 400
        ws.send(json.dumps({"type": "text", "text": "Still there?"}))
        kinds = set()
        while "reply" not in kinds:
            message = ws.recv(timeout=10)
            if isinstance(message, str):
                kinds.add(json.loads(message)["type"])
