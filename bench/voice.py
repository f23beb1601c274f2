"""Voice latency: speech-to-text real-time factor, and the voice loop's latency from the end
of a spoken question to the first byte of reply audio over /ws/voice with the local LLM,
next to the sum of its parts measured separately in the same run. Prints one JSON object.

    .venv/bin/python bench/voice.py [--repeats 3] [--set KEY=VALUE]

Questions are spoken by piper (resampled to 16 kHz) and streamed in 20 ms frames at
speaking pace, then an end message; the clock starts when the end message is sent. While
the user talks, the server has the LLM prefill the prompt's fixed start, as it does live.
"cold": a new socket and conversation with llama.cpp's KV cache cleared first; "warm": the
next question in the same conversation. The parts are then timed one by one on the same
questions in the same states: Whisper on the question audio, the emotion reading (text +
prosody), the chat turn up to its first finished sentence (save, retrieval, context, the
LLM's prompt and first sentence), and piper on that sentence.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from typing import Any

from serving import serving

from locomo import print_measured
from machine import state

FACTS = [
    "My sister Ingrid lives in Tromsø and teaches violin there.",
    "Ingrid adopted a grey cat called Pepper from a shelter.",
    "My passport number ends in 4471.",
    "I park my bike behind the library on weekdays.",
    "My dentist appointment is on Thursday at three.",
]
QUESTIONS = ["What is the name of Ingrid's cat?", "Where does my sister live?",
             "When is my dentist appointment?", "What does my passport number end in?"]
RTF_TEXT = ("Last spring we drove along the coast for a week, stopping in small fishing "
            "villages, eating far too much fresh bread, and watching the boats come in at "
            "dusk while the gulls argued over the harbour.")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement [3]")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override an engine setting (repeatable)")
    return p.parse_args(argv)


async def speak(engine, text: str):
    from memlane.voice.audio import resample, to_float32
    audio = await engine.voice.synthesize(text)
    return resample(to_float32(audio), engine.voice.tts.sample_rate)


async def stt_rtf(engine, repeats: int) -> dict[str, float]:
    audio = await speak(engine, RTF_TEXT)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        await engine.voice.transcribe(audio)
        seconds.append(time.perf_counter() - start)
    duration = len(audio) / 16000
    return {"clip_s": round(duration, 2), "transcribe_s": round(statistics.median(seconds), 3),
            "rtf": round(statistics.median(seconds) / duration, 4)}


async def say(ws, pcm: bytes) -> dict[str, Any]:
    """Stream a question at the pace it is spoken (20 ms frames), end it, and time the
    first byte of reply audio from the end message."""
    frame = 640  # 20 ms of 16 kHz s16le
    for start in range(0, len(pcm), frame):
        await ws.send(pcm[start:start + frame])
        await asyncio.sleep(0.02)
    await ws.send(json.dumps({"type": "end"}))
    sent, first, reply = time.perf_counter(), None, None
    while reply is None:
        message = await ws.recv()
        if isinstance(message, bytes):
            first = first or time.perf_counter()
        elif (event := json.loads(message))["type"] == "reply" and event["final"]:
            reply = event
        elif event["type"] == "error":
            raise RuntimeError(event)
    return {"first_audio_ms": round((first - sent) * 1000, 1) if first else None,
            "reply": reply["text"], "server_ms": reply["timings_ms"]}


async def loop_pair(url: str, first: bytes, second: bytes) -> list[dict[str, Any]]:
    """A cold question on a new socket, then a warm one in the same conversation."""
    from websockets.asyncio.client import connect

    async with connect(url + "/ws/voice", max_size=None) as ws:
        await ws.recv()  # ready; the server prefills the prompt's start meanwhile
        return [await say(ws, first), await say(ws, second)]


async def parts_once(engine, user_id: str, conversation_id: str, audio) -> dict[str, float]:
    """The same work as one voice turn, each part timed alone. Like the socket, the LLM
    first prefills the prompt's start (not timed: the user is still speaking then)."""
    from memlane.chat.events import Done, Token
    from memlane.voice.assistant import hear, speakable, split_sentences

    await engine.assistant.prepare(user_id, conversation_id)
    timed: dict[str, float] = {}
    prompt_tokens = None
    start = time.perf_counter()
    text = (await engine.voice.transcribe(audio)).text.strip()
    timed["stt_ms"] = _ms(start)
    start = time.perf_counter()
    reading, _ = await hear(engine.emotions, text, audio)
    timed["emotion_ms"] = _ms(start)
    start, pending, sentence = time.perf_counter(), "", None
    async for event in engine.turns.run(user_id, conversation_id, text, emotion=reading):
        if isinstance(event, Token) and sentence is None:
            pending += event.text
            ready, pending = split_sentences(pending)
            if ready:
                sentence = ready[0]
                timed["turn_to_first_sentence_ms"] = _ms(start)
        elif isinstance(event, Done):
            prompt_tokens = event.usage.prompt_tokens
            if sentence is None:  # a one-sentence reply is spoken when it ends
                sentence = speakable(pending)
                timed["turn_to_first_sentence_ms"] = _ms(start)
    start = time.perf_counter()
    await engine.voice.synthesize(sentence or text)
    timed["tts_first_sentence_ms"] = _ms(start)
    timed["sum_ms"] = round(sum(timed.values()), 1)
    return {**timed, "prompt_tokens": prompt_tokens}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def clear_kv_cache(llm) -> None:
    with llm._run_lock:
        llm._llama.reset()


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


async def measure(args: argparse.Namespace, overrides: dict[str, Any]) -> dict[str, Any]:

    from memlane.config import load_settings
    from memlane.engine import Engine
    from memlane.evaluation.locomo_qa import llm_overrides
    from memlane.schemas import MemoryCreate
    from memlane.voice.audio import to_int16

    started, machine = time.perf_counter(), state()
    with tempfile.TemporaryDirectory(prefix="memlane-voice-") as tmp:
        settings = load_settings(**{**llm_overrides(overrides), "extraction_enabled": False,
                                    "port": 0, **overrides, "data_dir": tmp})
        engine = Engine.from_settings(settings)
        async with serving(settings, engine) as base:
            url = base.replace("http", "ws", 1)
            await engine.memories.add_many("local", [MemoryCreate(text=t) for t in FACTS])
            rtf = await stt_rtf(engine, args.repeats)
            spoken = [await speak(engine, q) for q in QUESTIONS]
            runs: dict[str, list] = {"cold": [], "warm": []}
            for i in range(args.repeats):
                q1, q2 = (2 * i) % len(QUESTIONS), (2 * i + 1) % len(QUESTIONS)
                clear_kv_cache(engine.llm)
                pcm = [to_int16(spoken[q]).tobytes() for q in (q1, q2)]
                loops = await loop_pair(url, *pcm)
                clear_kv_cache(engine.llm)
                conversation = await engine.assistant.start("local", None)
                for kind, q, loop in (("cold", q1, loops[0]), ("warm", q2, loops[1])):
                    parts = await parts_once(engine, "local", conversation, spoken[q])
                    runs[kind].append({"question": QUESTIONS[q], **loop, **parts})
            health = await engine.health()
    summary = {kind: {k: _median(rs, k) for k in (
        "first_audio_ms", "stt_ms", "emotion_ms", "turn_to_first_sentence_ms",
        "tts_first_sentence_ms", "sum_ms", "prompt_tokens")} for kind, rs in runs.items()}
    for s in summary.values():
        s["loop_over_parts"] = round(s["first_audio_ms"] / s["sum_ms"], 3)
    return {"benchmark": "voice", "stt": rtf, "voice_loop": summary,
            "target_first_audio_ms": 3000, "runs": runs,
            "models": {k: v for k, v in health["models"].items()
                       if k in ("stt", "vad", "tts", "llm")},
            "machine": {**machine, "loadavg_end": state()["loadavg"]},
            "overrides": overrides, "run_seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    return print_measured(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
