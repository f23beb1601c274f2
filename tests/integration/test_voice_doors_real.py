"""The voice doors end to end on the real models, through a real `websockets` client:
espeak-ng speech in, Whisper base, Silero VAD, MiniLM, the local LLM, piper speech out."""
from __future__ import annotations

import io
import json
import re
import wave

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from memlane.api.app import create_app
from memlane.config import load_settings
from memlane.proto import memlane_pb2 as pb
from memlane.voice.audio import resample, to_float32, wav_bytes
from memlane.voice.models import VoiceModels
from support import free_port, uvicorn_thread
from voice_support import SENTENCES, espeak, wer, words

pytestmark = pytest.mark.integration

MORE = [  # besides voice_support.SENTENCES
    "I parked the blue car behind the library before the meeting started.",
    "Our neighbors are planning a garden party for the first Saturday in June.",
    "Could you remind me to water the tomatoes when I get home tonight?",
    "The museum was closed on Monday, so we visited the old harbor instead.",
    "My brother bought a small boat and wants to sail it along the coast this summer.",
]
CHUNK = 8192


@pytest.fixture(scope="module")
def served(real_models, real_llm, whisper, silero, piper, tmp_path_factory):
    port = free_port()
    settings = load_settings(data_dir=tmp_path_factory.mktemp("voice-doors"), port=port,
                             extraction_enabled=False)
    engine = real_models.engine(settings, real_llm, voice=VoiceModels(whisper, silero, piper))
    with uvicorn_thread(create_app(settings, engine), port) as url:
        yield url


def ws(url: str, path: str):
    return connect(url.replace("http", "ws") + path, max_size=None, open_timeout=10)


def proto(socket) -> pb.ServerMessage:
    message = pb.ServerMessage()
    message.ParseFromString(socket.recv(timeout=120))
    assert message.WhichOneof("body") != "error", message.error
    return message


def send_file(socket, data: bytes, **extra) -> None:
    for start in range(0, len(data), CHUNK):
        socket.send(pb.ClientMessage(audio=pb.Audio(data=data[start:start + CHUNK]))
                    .SerializeToString())
    socket.send(pb.ClientMessage(**extra).SerializeToString())


def transcribe(url: str, data: bytes) -> str:
    with ws(url, "/ws/transcribe") as socket:
        proto(socket)  # ready
        send_file(socket, data, end=pb.EndOfStream())
        heard = []
        while (message := proto(socket)).WhichOneof("body") != "end":
            if message.transcript.final:
                heard.append(message.transcript.text)
    return " ".join(heard)


def digits(text: str) -> str:
    return re.sub(r"(?<=\d)[,\s](?=\d)", "", text)


def test_transcribe_socket_word_error_rate_on_espeak_speech(served, tmp_path):
    said = SENTENCES + MORE  # 10 sentences, 175 words
    heard = [transcribe(served, espeak(text, tmp_path)) for text in said]
    errors = sum(wer(text, got) * len(words(text)) for text, got in zip(said, heard))
    rate = errors / sum(len(words(text)) for text in said)
    print(f"WER {rate:.3f}", heard)
    assert rate <= 0.10


def test_transcribe_socket_hears_pipers_voice(served, piper):
    """Piper's voice varies from run to run (one word of eight, "bake" heard as "bait",
    failed a single-sentence check in CI): the rate is over three sentences."""
    said = ["Tomorrow I will bake bread with my grandmother.", *SENTENCES[:2]]
    heard = [transcribe(served, wav_bytes(piper.synthesize(text), piper.sample_rate))
             for text in said]  # 22.05 kHz, resampled there
    errors = sum(wer(text, got) * len(words(text)) for text, got in zip(said, heard))
    assert errors / sum(len(words(text)) for text in said) <= 0.10, heard


def test_spoken_memory_becomes_searchable_and_a_spoken_question_gets_a_spoken_answer(
        served, whisper, tmp_path):
    with ws(served, "/ws/memory") as socket:
        proto(socket)
        send_file(socket, espeak("Remember that my passport number ends in 4471.", tmp_path),
                  commit=pb.Commit())
        while (message := proto(socket)).WhichOneof("body") != "committed":
            pass
    memory_id = message.committed.memory_id
    assert "4471" in digits(message.committed.text)
    found = httpx.post(served + "/api/search", json={"query": "passport number"}).json()
    assert found["results"][0]["memory"]["id"] == memory_id
    assert found["results"][0]["memory"]["source"] == "voice"

    with ws(served, "/ws/voice") as socket:
        assert json.loads(socket.recv(timeout=30))["type"] == "ready"
        for piece in _chunks(espeak("What does my passport number end in?", tmp_path)):
            socket.send(piece)
        socket.send(json.dumps({"type": "end"}))
        events, audio = [], []
        while not any(e.get("type") == "reply" and e.get("final") for e in events):
            message = socket.recv(timeout=180)
            if isinstance(message, bytes):
                audio.append(message)
            else:
                events.append(json.loads(message))
                assert events[-1]["type"] != "error", events[-1]
    reply = next(e for e in events if e["type"] == "reply" and e["final"])
    assert "4471" in digits(reply["text"]), reply
    assert audio, "no spoken reply"
    spoken_back = whisper.transcribe(resample(_samples(audio), 22050)).text
    assert "4471" in digits(spoken_back), spoken_back
    history = httpx.get(f"{served}/api/conversations/{reply['conversation_id']}").json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


def _chunks(data: bytes):
    for start in range(0, len(data), CHUNK):
        yield data[start:start + CHUNK]


def _samples(wavs: list[bytes]) -> np.ndarray:
    pieces = []
    for data in wavs:
        with wave.open(io.BytesIO(data)) as w:
            pieces.append(np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16))
    return to_float32(np.concatenate(pieces))
