"""The WebSocket doors through a real `websockets` client against a real uvicorn, with fake
models: the tone codec stands in for speech (ToneTTS speaks text as tones, ToneSTT reads
them back), the scripted LLM answers."""
from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from fakes_voice import ToneSTT, ToneTTS
from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.proto import memlane_pb2 as pb
from memlane.voice.audio import wav_bytes
from support import free_port, seed_people, uvicorn_thread

FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}
SILENCE = np.zeros(16000, dtype=np.int16)  # 1 s
LONG = "My sister Ann grows orchids and tulips on the balcony of her flat in the old town."


@dataclass
class Served:
    url: str
    app: object
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def llm(self):
        return self.app.state.engine.llm

    def ws(self, path: str, who: str | None = None, key: str | None = None):
        key = key or self.keys.get(who)
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return connect(self.url.replace("http", "ws") + path, additional_headers=headers,
                       max_size=None, open_timeout=10)

    def headers(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@contextmanager
def serving(tmp_path, people: dict[str, bool] | None = None, **overrides) -> Iterator[Served]:
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "ws", port=port, **{**FAKES, **overrides})
    keys = asyncio.run(seed_people(settings, people or {}))
    app = create_app(settings)
    with uvicorn_thread(app, port) as url:
        yield Served(url, app, keys)


@pytest.fixture
def server(tmp_path):
    with serving(tmp_path, ws_max_message_bytes=200_000) as served:
        yield served


@pytest.fixture
def auth_server(tmp_path):
    with serving(tmp_path, people={"alice": False, "bob": False},
                 auth_enabled=True) as served:
        yield served


def said(*sentences: str) -> bytes:
    """16 kHz PCM of the sentences as tones, 1 s of silence after each."""
    tts = ToneTTS()
    return b"".join(np.concatenate([tts.synthesize(s), SILENCE]).tobytes() for s in sentences)


def frames(pcm: bytes, size: int = 640) -> Iterator[bytes]:  # 20 ms of 16 kHz s16le
    for start in range(0, len(pcm), size):
        yield pcm[start:start + size]


def send(ws, **body) -> None:
    ws.send(pb.ClientMessage(**body).SerializeToString())


def recv(ws) -> pb.ServerMessage:
    message = pb.ServerMessage()
    message.ParseFromString(ws.recv(timeout=10))
    return message


def until(ws, kind: str) -> list[pb.ServerMessage]:
    """Messages up to and including the first of ``kind``."""
    seen = []
    while True:
        seen.append(recv(ws))
        if seen[-1].WhichOneof("body") == kind:
            return seen


def ready(ws) -> pb.ServerMessage:
    message = recv(ws)
    assert message.WhichOneof("body") == "ready", message
    assert message.ready.protocol == "memlane.v1"
    return message


def finals(messages) -> list[str]:
    return [m.transcript.text for m in messages
            if m.WhichOneof("body") == "transcript" and m.transcript.final]


# /ws/transcribe ------------------------------------------------------------------------
def test_transcribe_streams_partials_then_one_final_per_utterance(server):
    with server.ws("/ws/transcribe") as ws:
        ready(ws)
        for frame in frames(said(LONG,
                                 "She lives in Paris.")):
            send(ws, audio=pb.Audio(data=frame, encoding=pb.PCM_S16LE, sample_rate=16000))
        send(ws, request_id="r1", end=pb.EndOfStream())
        seen = until(ws, "end")
    assert finals(seen) == [LONG, "She lives in Paris."]
    partials = [m.transcript.text for m in seen
                if m.WhichOneof("body") == "transcript" and not m.transcript.final]
    assert partials and LONG.startswith(partials[0])
    final = next(m.transcript for m in seen if m.transcript.final)
    assert final.emotion.label and 0 < final.emotion.confidence <= 1
    assert final.end_s > final.start_s
    assert seen[-1].request_id == "r1"


def test_transcribe_takes_a_wav_container_split_anywhere(server):
    pcm = np.frombuffer(said("Remember the blue door."), dtype=np.int16)
    data = wav_bytes(pcm, 16000)
    with server.ws("/ws/transcribe") as ws:
        ready(ws)
        for piece in (data[:30], data[30:9000], data[9000:]):
            send(ws, audio=pb.Audio(data=piece, encoding=pb.WAV))
        send(ws, end=pb.EndOfStream())
        assert finals(until(ws, "end")) == ["Remember the blue door."]


def test_bad_frames_get_errors_and_the_socket_stays_usable(server):
    with server.ws("/ws/transcribe") as ws:
        ready(ws)
        ws.send(b"\xff\xff\xff\xff")  # not a protobuf message
        assert recv(ws).error.status == 400
        ws.send("hello")  # a text frame on a protobuf socket
        assert "protobuf" in recv(ws).error.message
        send(ws, question=pb.Question(text="wrong door"))
        assert recv(ws).error.status == 400
        send(ws, audio=pb.Audio(data=b"\x01\x02\x03", encoding=pb.OGG_OPUS))
        send(ws, end=pb.EndOfStream())
        error = recv(ws).error
        assert error.status == 422 and "decode" in error.message
        for frame in frames(said("Still here.")):
            send(ws, audio=pb.Audio(data=frame))
        send(ws, end=pb.EndOfStream())
        assert finals(until(ws, "end")) == ["Still here."]


PROBES = {  # a valid message for each socket, and the reply that proves it still works
    "/ws/transcribe": ({"end": pb.EndOfStream()}, "end"),
    "/ws/memory": ({"text": pb.Text(text="Still usable.")}, None),
    "/ws/ask": ({"question": pb.Question(text="Anything there?")}, "done"),
}


@pytest.mark.parametrize("path", list(PROBES))
def test_every_protobuf_socket_survives_garbage_and_closes_on_oversize(server, path):
    probe, reply = PROBES[path]
    with server.ws(path) as ws:
        ready(ws)
        for junk in (b"\x08\x96\x01\xff", b"", "{}"):
            ws.send(junk)
            assert recv(ws).error.status == 400
        send(ws, **probe)
        if reply is None:  # /ws/memory answers only a commit
            send(ws, commit=pb.Commit())
            reply = "committed"
        assert until(ws, reply)[-1].WhichOneof("body") == reply
        ws.send(b"\0" * 250_000)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                recv(ws)
    assert closed.value.rcvd.code == 1009


def test_an_oversized_message_closes_with_1009(server):
    with server.ws("/ws/transcribe") as ws:
        ready(ws)
        send(ws, audio=pb.Audio(data=b"\0" * 300_000))
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert closed.value.rcvd.code == 1009
    assert "limit" in closed.value.rcvd.reason
    with server.ws("/ws/transcribe") as ws:  # the server goes on
        ready(ws)


# /ws/memory ----------------------------------------------------------------------------
def test_memory_commits_spoken_and_typed_chunks_as_one_searchable_memory(server):
    with server.ws("/ws/memory") as ws:
        ready(ws)
        send(ws, text=pb.Text(text="Remember that"))
        for frame in frames(said("my passport number ends in 4471.")):
            send(ws, audio=pb.Audio(data=frame))
        send(ws, request_id="c1", commit=pb.Commit(metadata={"place": "kitchen"}))
        seen = until(ws, "committed")
    committed = seen[-1].committed
    assert committed.created and seen[-1].request_id == "c1"
    assert committed.text == "Remember that my passport number ends in 4471."
    memory = httpx.get(f"{server.url}/api/memories/{committed.memory_id}").json()
    assert memory["source"] == "voice" and memory["metadata"]["place"] == "kitchen"
    assert memory["emotion"] == committed.emotion.label
    hits = httpx.post(server.url + "/api/search", json={"query": "passport number"}).json()
    assert hits["results"][0]["memory"]["id"] == committed.memory_id


def test_memory_refuses_an_empty_commit_and_unknown_types(server):
    with server.ws("/ws/memory") as ws:
        ready(ws)
        send(ws, commit=pb.Commit())
        assert recv(ws).error.status == 422
        send(ws, text=pb.Text(text="Typed only."))
        send(ws, commit=pb.Commit(type="gossip"))
        assert "gossip" in recv(ws).error.message
        send(ws, commit=pb.Commit(type="episodic"))
        memory = httpx.get(f"{server.url}/api/memories/"
                           f"{until(ws, 'committed')[-1].committed.memory_id}").json()
    assert memory["source"] == "typed" and memory["type"] == "episodic"


# /ws/ask -------------------------------------------------------------------------------
def test_ask_by_text_streams_contexts_tokens_and_done(server):
    httpx.post(server.url + "/api/memories", json={"text": "My sister's birthday is June 14."})
    server.llm.enqueue("June 14 [1]")
    with server.ws("/ws/ask") as ws:
        ready(ws)
        send(ws, request_id="q", question=pb.Question(text="When is my sister's birthday?"))
        seen = until(ws, "done")
    kinds = [m.WhichOneof("body") for m in seen]
    assert kinds[0] == "contexts" and kinds[-1] == "done" and kinds.count("token") >= 2
    assert "June 14" in seen[0].contexts.items[0].text
    done = seen[-1].done
    assert done.answer == "June 14 [1]" and done.known
    assert done.citations == [seen[0].contexts.items[0].memory_id]
    assert all(m.request_id == "q" for m in seen)


def test_ask_by_voice_answers_the_transcribed_question(server):
    httpx.post(server.url + "/api/memories", json={"text": "The spare key is under the pot."})
    server.llm.enqueue("Under the pot [1]")
    with server.ws("/ws/ask") as ws:
        ready(ws)
        for frame in frames(said("Where is the spare key?")):
            send(ws, audio=pb.Audio(data=frame))
        send(ws, end=pb.EndOfStream())
        seen = until(ws, "done")
    contexts = next(m.contexts for m in seen if m.WhichOneof("body") == "contexts")
    assert contexts.question == "Where is the spare key?"
    assert seen[-1].done.answer == "Under the pot [1]"


# authentication ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/ws/transcribe", "/ws/memory", "/ws/ask"])
def test_a_wrong_key_gets_401_and_1008(auth_server, path):
    with auth_server.ws(path, key="ml_wrong") as ws:
        assert recv(ws).error.status == 401
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


def test_voice_wrong_key_and_oversized_messages_close_it_too(auth_server):
    with auth_server.ws("/ws/voice", key="ml_wrong") as ws:
        assert json.loads(ws.recv(timeout=10))["status"] == 401
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008
    with auth_server.ws("/ws/voice") as ws:  # the key as the first message
        ws.send(json.dumps({"type": "auth", "api_key": auth_server.keys["bob"]}))
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        ws.send(b"\0" * 1_100_000)  # over the default 1 MB
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1009


def test_the_key_may_come_as_the_first_message(auth_server):
    with auth_server.ws("/ws/ask") as ws:
        send(ws, auth=pb.Auth(api_key=auth_server.keys["alice"]))
        assert ready(ws).ready.user_id
    with auth_server.ws("/ws/ask") as ws:  # anything else first is refused
        send(ws, question=pb.Question(text="hi"))
        assert recv(ws).error.status == 401


def test_sockets_only_reach_the_callers_memories(auth_server):
    r = httpx.post(auth_server.url + "/api/memories", json={"text": "Bob's safe code is 9911."},
                   headers=auth_server.headers("bob"))
    assert r.status_code == 201
    with auth_server.ws("/ws/ask", "alice") as ws:
        ready(ws)
        send(ws, question=pb.Question(text="What is the safe code?"))
        seen = until(ws, "done")
    assert not seen[0].contexts.items and not seen[-1].done.known
    with auth_server.ws("/ws/voice", "alice") as ws:  # voice: JSON errors
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
    bob_chat = httpx.post(auth_server.url + "/api/conversations", json={},
                          headers=auth_server.headers("bob")).json()
    with auth_server.ws(f"/ws/voice?conversation_id={bob_chat['id']}", "alice") as ws:
        assert json.loads(ws.recv(timeout=10))["status"] == 404
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


# /ws/voice -----------------------------------------------------------------------------
def voice_events(ws) -> tuple[list[dict], list[bytes]]:
    """JSON events and binary audio up to the final reply (then the listening status)."""
    events, audio = [], []
    while True:
        message = ws.recv(timeout=10)
        if isinstance(message, bytes):
            audio.append(message)
            continue
        events.append(json.loads(message))
        if events[-1]["type"] == "error":
            return events, audio
        if events[-1]["type"] == "status" and any(e["type"] == "reply" and e["final"]
                                                   for e in events):
            return events, audio


def heard(wav: bytes) -> str:
    with wave.open(io.BytesIO(wav)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return ToneSTT().transcribe(samples.astype(np.float32) / 32768).text


def ask_aloud(server, question: str):
    """Say ``question`` on a new /ws/voice socket; its events and reply audio."""
    with server.ws("/ws/voice") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        for frame in frames(said(question)):
            ws.send(frame)
        ws.send(json.dumps({"type": "end"}))
        return voice_events(ws)


def test_voice_loop_replies_in_spoken_sentences_and_remembers_the_chat(server):
    httpx.post(f"{server.url}/api/memories", json={"text": "My sister Ann lives in Paris."})
    server.llm.enqueue("Her name is Ann. She lives in Paris [1].")
    events, audio = ask_aloud(server, "What is my sister's name?")
    states = [e["state"] for e in events if e["type"] == "status"]
    assert states[:3] == ["listening", "thinking", "speaking"] and states[-1] == "listening"
    assert next(e for e in events if e["type"] == "transcript")["text"] == \
        "What is my sister's name?"
    assert next(e for e in events if e["type"] == "emotion")["label"]
    sentences = [e["text"] for e in events if e["type"] == "reply" and not e["final"]]
    assert sentences == ["Her name is Ann.", "She lives in Paris."]
    assert [heard(a) for a in audio] == sentences
    final = next(e for e in events if e["type"] == "reply" and e["final"])
    assert final["timings_ms"]["first_audio"] > 0
    history = httpx.get(f"{server.url}/api/conversations/{final['conversation_id']}").json()
    said_, replied = history["messages"]
    assert said_["content"] == "What is my sister's name?" and said_["emotion"]
    assert replied["content"] == "Her name is Ann. She lives in Paris [1]."
    assert history["conversation"]["agent"] == "voice"
    chat = [c["messages"] for c in server.llm.calls if c["json_schema"] is None]
    frame, notes, question = chat[-1]
    assert "spoken aloud" in frame["content"] and "Memories" not in frame["content"]
    assert notes["role"] == "system" and "My sister Ann lives in Paris." in notes["content"]
    assert question == {"role": "user", "content": "What is my sister's name?"}


def test_voice_loop_does_not_invent_what_was_never_told(server):
    events, _ = ask_aloud(server, "What is my sister's name?")
    final = next(e for e in events if e["type"] == "reply" and e["final"])
    assert "Ann" not in final["text"] and "don't know" in final["text"]


def test_voice_prompts_keep_a_stable_start_that_is_prefilled(server):
    with server.ws("/ws/voice") as ws:
        json.loads(ws.recv(timeout=10))
        for text in ("My cat is called Tom.", "What is my cat called?"):
            ws.send(json.dumps({"type": "text", "text": text}))
            voice_events(ws)
    first, second = (c["messages"] for c in server.llm.calls if c["json_schema"] is None)
    assert second[0] == first[0]  # the same system frame
    assert [m["content"] for m in second[1:3]] == ["My cat is called Tom.",
                                                    "You said: My cat is called Tom."]
    prefills = server.llm.prefills
    assert prefills[0] == [first[0]]  # at connection, before anything was said
    assert prefills[1][:3] == second[:3]  # after the first reply: frame and history


def test_voice_takes_typed_turns_and_refuses_bad_json(server):
    with server.ws("/ws/assistant") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        assert json.loads(ws.recv(timeout=10))["state"] == "listening"
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["status"] == 400
        ws.send(json.dumps({"type": "dance"}))
        assert "dance" in json.loads(ws.recv(timeout=10))["message"]
        ws.send(json.dumps({"type": "text", "text": "x" * 20_001}))  # as /api/chat: refused
        assert json.loads(ws.recv(timeout=10))["status"] == 422
        ws.send(json.dumps({"type": "end"}))  # nothing said yet
        events, _ = voice_events(ws)
        assert events[-1]["status"] == 422
        ws.send(json.dumps({"type": "text", "text": "I am so happy today!"}))
        events, audio = voice_events(ws)
    assert any(e["type"] == "reply" and e["final"] for e in events) and audio


# emotions ------------------------------------------------------------------------------
def test_emotion_timeline_lists_what_the_user_felt_per_conversation(server):
    with server.ws("/ws/voice") as ws:
        json.loads(ws.recv(timeout=10))
        for text in ("I am so happy, I got the job!", "My dog died and I miss him."):
            ws.send(json.dumps({"type": "text", "text": text}))
            events, _ = voice_events(ws)
    cid = next(e for e in events if e["type"] == "reply" and e["final"])["conversation_id"]
    timeline = httpx.get(server.url + "/api/emotions",
                         params={"conversation_id": cid}).json()
    assert [p["text"] for p in timeline["points"]] == ["I am so happy, I got the job!",
                                                       "My dog died and I miss him."]
    assert all(p["emotion"] and p["confidence"] is not None for p in timeline["points"])
    assert sum(timeline["counts"].values()) == 2
    assert httpx.get(server.url + "/api/emotions",
                     params={"conversation_id": "nope"}).status_code == 404


def test_without_voice_text_still_works_and_audio_says_why(tmp_path):
    with serving(tmp_path, voice_enabled=False) as served:
        with served.ws("/ws/ask") as ws:
            ready(ws)
            send(ws, question=pb.Question(text="Anything?"))
            assert until(ws, "done")[-1].done.answer
            send(ws, audio=pb.Audio(data=said("Hello.")))
            error = recv(ws).error
            assert error.status == 503 and "voice_enabled" in error.message
        with served.ws("/ws/voice") as ws:
            assert json.loads(ws.recv(timeout=10))["status"] == 503
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
        assert "stt" not in httpx.get(served.url + "/api/health").json()["models"]
