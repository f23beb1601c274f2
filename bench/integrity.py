"""Memory integrity: what is told is kept and given back, nothing is invented, nothing is
overwritten. Scripted dialogues run through the real doors (REST chat, /v1 with the
official openai client, /ws/voice with piper's speech) on the real local LLM, with fact
extraction in the background as in production. Prints one JSON object.

    .venv/bin/python bench/integrity.py [--only KIND] [--limit N] [--set KEY=VALUE]

Each dialogue: tell (one or more messages in conversation A) → ask at once in a new
conversation (the background job may still be running) → wait until the job queue is
empty → ask again in another new conversation. "long" dialogues ask in conversation A
after 30+ more messages. Memories are wiped between dialogues.

Figures: answers right at once and after the jobs (an expected value in the answer and
no forbidden one; for never-told questions: a "don't know"), memories stored that the
user never said (`memlane.memory.told.ungrounded` against everything the user told in
that dialogue), memories overwritten in place (history UPDATE by anyone but the user),
and invented answers to never-told questions (a value in the answer the user never said,
or any answer that is not a "don't know").
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from serving import serving
from tqdm import tqdm

from locomo import print_measured
from machine import state


@dataclass
class Dialogue:
    kind: str  # fact | two_part | correction | decoy | never | long | spoken
    tell: list[str]
    question: str
    expect: list[str] = field(default_factory=list)  # any one; "a+b": both; [] never told
    forbid: list[str] = field(default_factory=list)
    filler: int = 0  # more messages in conversation A before asking there (long)
    spoken: bool = False


def d(kind, tell, question, expect=(), forbid=(), **extra) -> Dialogue:
    tell = [tell] if isinstance(tell, str) else list(tell)
    return Dialogue(kind, tell, question, list(expect), list(forbid), **extra)


DIALOGUES = [
    d("fact", "Remember that my passport number ends in 4471.",
      "What does my passport number end in?", ["4471"]),
    d("fact", "My locker code at the gym is 5521.", "What is my gym locker code?", ["5521"]),
    d("fact", "Note for later: I parked the car on level 3 of the airport garage.",
      "Where did I park the car?", ["level 3", "third"]),
    d("fact", "My dentist appointment is on Thursday at 3 pm.",
      "When is my dentist appointment?", ["thursday"]),
    d("fact", "My sister Ingrid lives in Tromsø.", "Where does my sister live?", ["troms"]),
    d("fact", "My wifi password is hunter2g.", "What is my wifi password?", ["hunter2g"]),
    d("fact", "My daughter's teacher is called Mrs Okafor.",
      "What is my daughter's teacher called?", ["okafor"]),
    d("fact", "I was born on 12 March 1988.", "When was I born?", ["1988"]),
    d("fact", "My favourite tea is oolong.", "What is my favourite tea?", ["oolong"]),
    d("fact", "My bike lock code is 3197.", "What is my bike lock code?", ["3197"]),
    d("fact", "I work as a nurse at Saint Mary's hospital.", "Where do I work?", ["mary"]),
    d("fact", "My dog is called Biscuit and he is a beagle.", "What is my dog's name?",
      ["biscuit"]),
    d("fact", "Our wedding anniversary is on June 14th.", "When is our wedding anniversary?",
      ["june+14"]),
    d("fact", "My flight to Lisbon leaves at 7:45 on Friday.",
      "What time does my flight to Lisbon leave?", ["7:45", "7.45"]),
    d("fact", "The spare house key is under the blue flowerpot.",
      "Where is the spare house key?", ["flowerpot", "flower pot"]),
    d("two_part", "I'm allergic to peanuts, but fine with almonds.",
      "What nuts am I allergic to?", ["peanut"]),
    d("two_part", "My son loves football but hates swimming.",
      "Which sport does my son hate?", ["swim"]),
    d("two_part", "I take my coffee black and my tea with milk.", "How do I take my tea?",
      ["milk"]),
    d("two_part", "My brother lives in Leeds and my cousin lives in York.",
      "Where does my cousin live?", ["york"], ["leeds"]),
    d("correction", ["My car is parked on level 3.", "Actually I moved the car to level 5."],
      "Which level is my car parked on now?", ["5", "five"]),
    d("correction", ["I live in Paris.", "I just moved to Berlin, so I live there now."],
      "Which city do I live in now?", ["berlin"]),
    d("correction", ["My dentist appointment is on Tuesday.",
                     "The dentist moved my appointment to Friday."],
      "When is my dentist appointment?", ["friday"]),
    d("correction", ["My phone number ends in 1234.",
                     "Correction: my phone number ends in 5678, not 1234."],
      "What does my phone number end in?", ["5678"]),
    d("correction", ["My manager is called Tom.", "I have a new manager now, Priya."],
      "Who is my manager now?", ["priya"]),
    d("correction", ["My gym locker is number 12.", "The gym gave me a new locker, number 47."],
      "What is my gym locker number now?", ["47"]),
    d("decoy", ["My brother's car is red.", "My own car is blue."],
      "What colour is my car?", ["blue"], ["red"]),
    d("decoy", ["My wife's birthday is on May 2nd.", "My birthday is on October 9th."],
      "When is my birthday?", ["october"], ["may"]),
    d("decoy", ["My friend Sam lives in Denver.", "I live in Austin."], "Where do I live?",
      ["austin"], ["denver"]),
    d("decoy", ["My colleague Ben drinks green tea.", "I drink rooibos tea."],
      "What tea do I drink?", ["rooibos"]),
    d("decoy", ["My neighbour's dog is called Rex.", "My dog is called Luna."],
      "What is my dog called?", ["luna"], ["rex"]),
    d("never", "My passport number ends in 4471.", "What is my blood type?"),
    d("never", "I parked on level 3 today.", "What is my mother's maiden name?"),
    d("never", "My sister lives in Oslo.", "Where does my brother live?"),
    d("never", "My dog is called Biscuit.", "What is my cat's name?"),
    d("never", "My favourite tea is oolong.", "What is my favourite colour?"),
    d("never", "I work as a nurse.", "What is my salary?"),
    d("never", "My wifi password is hunter2g.", "What is my bank PIN?"),
    d("never", "My flight leaves on Friday.", "What is my flight number?"),
    d("long", "My locker code at work is 8832.", "What is my locker code at work?", ["8832"],
      filler=30),
    d("long", "My niece Clara turns 7 on August 3rd.", "When does my niece Clara turn 7?",
      ["august"], filler=32),
    d("spoken", "My sister Ingrid lives in Oslo.", "Where does my sister live?", ["oslo"],
      spoken=True),
    d("spoken", "My dog is called Biscuit.", "What is my dog called?", ["biscuit"],
      spoken=True),
    d("spoken", "My car is blue.", "What is my blood type?", spoken=True),
    d("spoken", ["I live in Paris.", "I moved to Berlin last week."],
      "Where do I live now?", ["berlin"], spoken=True),
]
FILLER = ["The weather was mild today.", "I had pasta for lunch.", "Work was quiet.",
          "I watched a documentary about whales.", "The train was a bit late.",
          "I need to buy more coffee.", "My plants look healthy.", "I went for a short walk."]
_DONT_KNOW = re.compile(r"\b(don'?t know|do not know|not (?:mentioned|sure)|no (?:record|"
                        r"information|memory)|haven'?t (?:told|mentioned)|didn'?t (?:tell|"
                        r"mention)|not in my memor)", re.I)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="only dialogues of this kind")
    p.add_argument("--limit", type=int, help="at most N dialogues")
    p.add_argument("--max-tokens", type=int, default=96, help="reply length [96]")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override an engine setting (repeatable)")
    return p.parse_args(argv)


def right(answer: str, dialogue: Dialogue) -> bool:
    text = answer.lower()
    if not dialogue.expect:
        return bool(_DONT_KNOW.search(answer))
    found = any(all(part in text for part in e.split("+")) for e in dialogue.expect)
    return found and not any(re.search(rf"\b{re.escape(f)}\b", text) for f in dialogue.forbid)


class Doors:
    """One user's ways in: REST chat, /v1 (official client) and /ws/voice (spoken)."""

    def __init__(self, url: str, engine, max_tokens: int):
        import httpx
        from openai import OpenAI
        self.url, self.engine, self.max_tokens = url, engine, max_tokens
        self.rest = httpx.Client(base_url=url, timeout=600)
        self.openai = OpenAI(base_url=f"{url}/v1", api_key="unused", timeout=600)
        self.save_user_ms: list[tuple[bool, float]] = []  # (kept a memory, ms) per turn

    def chat(self, message: str, conversation_id: str | None = None) -> tuple[str, str]:
        r = self.rest.post("/api/chat", json={
            "message": message, "stream": False, "max_tokens": self.max_tokens,
            **({"conversation_id": conversation_id} if conversation_id else {})})
        r.raise_for_status()
        out = r.json()
        self.save_user_ms.append((bool(out.get("remembered")), out["timings_ms"]["save_user"]))
        return out["answer"], out["conversation_id"]

    def complete(self, messages: list[dict]) -> str:
        reply = self.openai.chat.completions.create(model="memlane", messages=messages,
                                                    max_tokens=self.max_tokens)
        return reply.choices[0].message.content or ""

    async def speak(self, texts: list[str]) -> list[tuple[str, str]]:
        """Say each text in one /ws/voice conversation; what the server heard (Whisper's
        transcript: the words a memory may hold) and its final reply, for each."""
        from websockets.asyncio.client import connect

        from memlane.voice.audio import resample, to_float32, to_int16
        replies = []
        async with connect(self.url.replace("http", "ws") + "/ws/voice",
                           max_size=None) as ws:
            await ws.recv()
            for text in texts:
                audio = await self.engine.voice.synthesize(text)
                pcm = to_int16(resample(to_float32(audio), self.engine.voice.tts.sample_rate))
                data = pcm.tobytes()
                for start in range(0, len(data), 3200):
                    await ws.send(data[start:start + 3200])
                await ws.send(json.dumps({"type": "end"}))
                replies.append(await _final_reply(ws))
        return replies

    def wait_jobs(self, timeout: float = 900) -> None:
        deadline = time.time() + timeout
        while True:
            jobs = self.rest.get("/api/health").json()["jobs"]
            if not jobs.get("queued") and not jobs.get("running"):
                return
            if time.time() > deadline:
                raise TimeoutError(f"jobs still pending: {jobs}")
            time.sleep(0.5)

    def memories(self) -> list[dict]:
        r = self.rest.get("/api/memories", params={"include_superseded": "true",
                                                   "limit": 500})
        return r.json()["memories"]

    def history(self, memory_id: str) -> list[dict]:
        return self.rest.get(f"/api/memories/{memory_id}/history").json()

    def wipe(self) -> None:
        self.wait_jobs()
        self.rest.delete("/api/memories", params={"confirm": "true"})


async def _final_reply(ws) -> tuple[str, str]:
    heard = []
    while True:
        message = await ws.recv()
        if isinstance(message, bytes):
            continue
        event = json.loads(message)
        if event["type"] == "transcript" and event.get("final", True):
            heard.append(event["text"])
        if event["type"] == "reply" and event.get("final"):
            return " ".join(heard), event["text"]
        if event["type"] == "error":
            raise RuntimeError(event)


async def run_dialogue(doors: Doors, n: int, dialogue: Dialogue) -> dict[str, Any]:
    """Tell, ask at once, wait for the jobs, ask again; then audit the memories. (HTTP
    calls run in a thread: the server shares this event loop.)"""
    await asyncio.to_thread(doors.wipe)
    door = "voice" if dialogue.spoken else ("rest" if n % 2 == 0 else "openai")
    said = list(dialogue.tell)
    if door == "voice":  # the user's words are what the server heard
        said = [heard for heard, _ in await doors.speak(dialogue.tell)]
        now = (await doors.speak([dialogue.question]))[0][1]
        await asyncio.to_thread(doors.wait_jobs)
        later = (await doors.speak([dialogue.question]))[0][1]
    else:
        now, later = await asyncio.to_thread(_typed, doors, door, dialogue, said)
    memories = await asyncio.to_thread(doors.memories)
    ungrounded_memories = [m["text"] for m in memories if _ungrounded(m["text"], said)]
    histories = await asyncio.to_thread(lambda: [doors.history(m["id"]) for m in memories])
    overwritten = [h for entries in histories for h in entries
                   if h["event"] == "UPDATE" and h["actor"] != "user"]
    return {"kind": dialogue.kind, "door": door, "question": dialogue.question,
            "expect": dialogue.expect, "answer_at_once": now, "answer_after_jobs": later,
            "right_at_once": right(now, dialogue), "right_after_jobs": right(later, dialogue),
            "invented": [a for a in (now, later)
                         if not dialogue.expect and not _DONT_KNOW.search(a)],
            "memories": [(m["text"], m["source"], m["valid_until"] is None)
                         for m in memories if m["source"] != "chat" or dialogue.filler == 0],
            "ungrounded_memories": ungrounded_memories,
            "overwritten_in_place": len(overwritten)}


def _typed(doors: Doors, door: str, dialogue: Dialogue, said: list[str]) -> tuple[str, str]:
    conversation = None
    thread: list[dict] = []
    for message in dialogue.tell:
        if door == "rest":
            _, conversation = doors.chat(message, conversation)
        else:
            thread.append({"role": "user", "content": message})
            thread.append({"role": "assistant", "content": doors.complete(thread)})
    for i in range(dialogue.filler):
        said.append(FILLER[i % len(FILLER)])
        if door == "rest":
            doors.chat(said[-1], conversation)
        else:
            thread.append({"role": "user", "content": said[-1]})
            thread.append({"role": "assistant", "content": doors.complete(thread)})
    if dialogue.filler:
        now = (doors.chat(dialogue.question, conversation)[0] if door == "rest"
               else doors.complete([*thread, {"role": "user", "content": dialogue.question}]))
    else:
        now = (doors.chat(dialogue.question)[0] if door == "rest"
               else doors.complete([{"role": "user", "content": dialogue.question}]))
    doors.wait_jobs()
    later = (doors.chat(dialogue.question)[0] if door == "rest"
             else doors.complete([{"role": "user", "content": dialogue.question}]))
    return now, later


def _ungrounded(text: str, said: list[str]) -> list[str]:
    from memlane.memory.told import ungrounded
    return ungrounded(text, said)


def summarise(runs: list[dict]) -> dict[str, Any]:
    def share(rows, key):
        return {"right": sum(r[key] for r in rows), "of": len(rows),
                "pct": round(100 * sum(r[key] for r in rows) / len(rows), 1) if rows else None}
    kinds = sorted({r["kind"] for r in runs})
    never = [r for r in runs if not r["expect"]]
    return {
        "dialogues": len(runs),
        "right_at_once": share(runs, "right_at_once"),
        "right_after_jobs": share(runs, "right_after_jobs"),
        "by_kind": {k: {"at_once": share([r for r in runs if r["kind"] == k], "right_at_once"),
                        "after_jobs": share([r for r in runs if r["kind"] == k],
                                            "right_after_jobs")} for k in kinds},
        "ungrounded_memories": sum(len(r["ungrounded_memories"]) for r in runs),
        "memories_stored": sum(len(r["memories"]) for r in runs),
        "overwritten_in_place": sum(r["overwritten_in_place"] for r in runs),
        "never_told_questions": 2 * len(never),
        "invented_answers": sum(len(r["invented"]) for r in runs),
    }


async def measure(args: argparse.Namespace, overrides: dict[str, Any]) -> dict[str, Any]:
    from memlane.config import load_settings
    from memlane.engine import Engine
    from memlane.evaluation.locomo_qa import llm_overrides

    chosen = [x for x in DIALOGUES if not args.only or x.kind == args.only][:args.limit]
    started, machine = time.perf_counter(), state()
    with tempfile.TemporaryDirectory(prefix="memlane-integrity-") as tmp:
        settings = load_settings(**{**llm_overrides(overrides), "port": 0,
                                    "jwt_secret": secrets.token_hex(32),
                                    "rate_limit_per_minute": 0, **overrides,
                                    "voice_enabled": any(x.spoken for x in chosen),
                                    "data_dir": tmp})
        engine = Engine.from_settings(settings)
        runs = []
        async with serving(settings, engine) as url:
            doors = Doors(url, engine, args.max_tokens)
            for n, dialogue in tqdm(list(enumerate(chosen)), desc="dialogues", unit="dialogue"):
                runs.append(await run_dialogue(doors, n, dialogue))
    kept = [ms for stored, ms in doors.save_user_ms if stored]
    plain = [ms for stored, ms in doors.save_user_ms if not stored]
    return {"benchmark": "integrity", **summarise(runs),
            "save_user_ms_p50": {"kept_a_memory": _median(kept), "kept_nothing": _median(plain),
                                 "turns": len(doors.save_user_ms)},
            "goals": {"right_after_jobs_pct": 100, "right_at_once_pct": 95,
                      "ungrounded_memories": 0, "overwritten_in_place": 0,
                      "invented_answers": 0},
            "failures": [r for r in runs if not (r["right_at_once"] and r["right_after_jobs"])
                         or r["ungrounded_memories"] or r["invented"]],
            "machine": {**machine, "loadavg_end": state()["loadavg"]},
            "overrides": overrides, "run_seconds": round(time.perf_counter() - started, 1)}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def main(argv: list[str] | None = None) -> int:
    return print_measured(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
