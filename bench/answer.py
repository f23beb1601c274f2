"""Answer latency: time to first token (TTFT) and tokens/s of `engine.asker.ask` against raw
llama.cpp on exactly the same messages, on the same `llama_cpp.Llama`, in the same run; and
the KV-cache gain for a second question over the same memories. Prints one JSON object.

    .venv/bin/python bench/answer.py [--repeats 3] [--max-tokens 64] [--set KEY=VALUE]

The messages are captured, not rebuilt: a recording LLM (same window and tokenizer) stands
behind a second Asker on the engine's retriever and keeps what `ask` would send. Cold runs
clear llama.cpp's KV cache first (`Llama.reset()`); the two sides of each comparison
alternate which goes first; every figure is the median of the repeats. The query-embedding
cache is off (embed_cache_size=0) so repeated questions pay for retrieval every time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from locomo import print_measured
from machine import state

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
FACTS = [  # about one person, so both questions retrieve the same memories (same prefix)
    ("My sister Ingrid moved to Tromsø in 2019 and teaches violin there.", "2026-01-11"),
    ("Ingrid adopted a grey cat called Pepper from a shelter.", "2026-02-02"),
    ("Ingrid is allergic to peanuts, so no satay when she visits.", "2026-02-20"),
    ("Ingrid's birthday is on 14 June; she likes orchids.", "2026-03-08"),
    ("Ingrid runs a half marathon every September in Oslo.", "2026-03-30"),
    ("Ingrid drives an old green Skoda she calls Olga.", "2026-04-18"),
]
QUESTION = "Where does Ingrid live and what does she teach?"
SECOND = "What is the name of Ingrid's cat?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement [3]")
    p.add_argument("--max-tokens", type=int, default=64, help="answer tokens [64]")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override an engine setting (repeatable)")
    return p.parse_args(argv)


def _run(start: float, stamps: list[float], prompt_tokens: int) -> dict[str, float]:
    n = len(stamps)
    rate = (n - 1) / (stamps[-1] - stamps[0]) if n > 1 and stamps[-1] > stamps[0] else None
    return {"ttft_ms": (stamps[0] - start) * 1000 if stamps else None, "tokens": n,
            "tokens_per_s": rate, "prompt_tokens": prompt_tokens}


async def ours(engine, user_id: str, question: str, max_tokens: int) -> dict[str, Any]:
    from memlane.chat.events import Done, Token

    start, stamps, done = time.perf_counter(), [], None
    async for event in engine.asker.ask(user_id, question, max_tokens=max_tokens, now=NOW):
        if isinstance(event, Token) and event.text:
            stamps.append(time.perf_counter())
        elif isinstance(event, Done):
            done = event
    out = _run(start, stamps, done.usage.prompt_tokens)
    return {**out, **{f"{k}_ms": v for k, v in done.timings_ms.items()
                      if k in ("retrieval", "context")}}


def raw(llm, messages: list[dict[str, str]], max_tokens: int, temperature: float
        ) -> dict[str, Any]:
    """The same request LlamaLLM makes, straight on its llama_cpp.Llama."""
    from memlane.models.llama import REPEAT_PENALTY

    with llm._run_lock:  # waits until our last generation has handed the model back
        llama, start, stamps, prompt_tokens = llm._llama, time.perf_counter(), [], 0
        for chunk in llama.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature,
                repeat_penalty=REPEAT_PENALTY, stop=[], stream=True):
            if chunk["choices"][0]["delta"].get("content"):
                if not stamps:
                    prompt_tokens = llama.n_tokens
                stamps.append(time.perf_counter())
    return _run(start, stamps, prompt_tokens)


def clear_kv_cache(llm) -> None:
    with llm._run_lock:
        llm._llama.reset()


async def captured_messages(engine, user_id: str, question: str, max_tokens: int
                            ) -> list[dict[str, str]]:
    """The messages `ask` sends for this question, recorded without generating."""
    from memlane.chat.ask import Asker
    from memlane.models.llm import LLM, Delta, Usage

    class Recorder(LLM):
        def __init__(self, llm: LLM):
            self.llm, self.context_window, self.messages = llm, llm.context_window, None

        def count_tokens(self, text: str) -> int:
            return self.llm.count_tokens(text)

        async def stream(self, messages, **options):
            self.messages = messages
            yield Delta(finish_reason="stop", usage=Usage())

    recorder = Recorder(engine.llm)
    async for _ in Asker(engine.settings, engine.retriever, recorder).ask(
            user_id, question, max_tokens=max_tokens, now=NOW):
        pass
    if recorder.messages is None:
        sys.exit(f"error: no memory grounds {question!r}; nothing to measure")
    return recorder.messages


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def _shared_prefix(llama, a: list[dict[str, str]], b: list[dict[str, str]]) -> int:
    """Tokens the two prompts share from the start (what the KV cache can reuse)."""
    def tokens(messages):
        text = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
        return llama.tokenize(text.encode(), add_bos=False)
    n = 0
    for x, y in zip(tokens(a), tokens(b)):
        if x != y:
            break
        n += 1
    return n


async def measure(args: argparse.Namespace, overrides: dict[str, Any]) -> dict[str, Any]:
    from memlane.config import load_settings
    from memlane.domain import MemoryType
    from memlane.engine import Engine
    from memlane.evaluation.locomo_qa import llm_overrides
    from memlane.schemas import MemoryCreate

    started, machine = time.perf_counter(), state()
    with tempfile.TemporaryDirectory(prefix="memlane-answer-") as tmp:
        settings = load_settings(**{**llm_overrides(overrides), "embed_cache_size": 0,
                                    **overrides, "data_dir": tmp})
        engine = Engine.from_settings(settings)
        await engine.start()
        try:
            user = await engine.accounts.create_user("bench-answer")
            await engine.memories.add_many(user.id, [
                MemoryCreate(text=t, type=MemoryType.episodic,
                             occurred_at=datetime.fromisoformat(d).replace(tzinfo=UTC))
                for t, d in FACTS])
            llm = engine.llm  # a LlamaLLM: its llama_cpp.Llama is llm._llama
            first = await captured_messages(engine, user.id, QUESTION, args.max_tokens)
            second = await captured_messages(engine, user.id, SECOND, args.max_tokens)
            temp = settings.llm_temperature
            runs: dict[str, list[dict[str, Any]]] = {k: [] for k in (
                "ours_cold", "raw_cold", "ours_cached", "raw_cached", "ours_second_warm",
                "ours_second_cold")}
            for i in range(args.repeats):
                # (a, b) the same question, KV cache cleared; who goes first alternates
                for side in (("ours", "raw") if i % 2 == 0 else ("raw", "ours")):
                    clear_kv_cache(llm)
                    runs[f"{side}_cold"].append(
                        await ours(engine, user.id, QUESTION, args.max_tokens)
                        if side == "ours" else raw(llm, first, args.max_tokens, temp))
                # the same question again, its whole prompt cached: retrieval is the gap
                for side in (("raw", "ours") if i % 2 == 0 else ("ours", "raw")):
                    runs[f"{side}_cached"].append(
                        await ours(engine, user.id, QUESTION, args.max_tokens)
                        if side == "ours" else raw(llm, first, args.max_tokens, temp))
                # (d) a different question right after: its shared prefix is cached
                runs["ours_second_warm"].append(
                    await ours(engine, user.id, SECOND, args.max_tokens))
                clear_kv_cache(llm)
                runs["ours_second_cold"].append(
                    await ours(engine, user.id, SECOND, args.max_tokens))
            shared = _shared_prefix(llm._llama, first, second)
            info = {**llm.info(), "warm_up_s": engine.llm_warm}
        finally:
            await engine.stop()

    med = {name: {k: _median(rs, k) for k in ("ttft_ms", "tokens_per_s", "tokens",
                                               "prompt_tokens", "retrieval_ms", "context_ms")
                  if _median(rs, k) is not None}
           for name, rs in runs.items()}
    ours_ttft, raw_ttft = med["ours_cold"]["ttft_ms"], med["raw_cold"]["ttft_ms"]
    warm, cold2 = med["ours_second_warm"]["ttft_ms"], med["ours_second_cold"]["ttft_ms"]
    return {
        "benchmark": "answer-latency",
        "question": QUESTION, "second_question": SECOND, "memories": len(FACTS),
        "max_tokens": args.max_tokens, "repeats": args.repeats,
        "median": med,
        "overhead": {
            "cold_ttft_ratio": round((ours_ttft - raw_ttft) / raw_ttft, 3),
            "cold_ttft_ms": round(ours_ttft - raw_ttft, 1),
            "cached_prompt_ttft_ms": round(med["ours_cached"]["ttft_ms"]
                                           - med["raw_cached"]["ttft_ms"], 1),
            "target_ratio": 0.10,
            "same_prompt": med["ours_cold"]["prompt_tokens"] == med["raw_cold"][
                "prompt_tokens"]},
        "kv_cache_second_question": {
            "ttft_ms_after_first": warm, "ttft_ms_cold": cold2,
            "speedup": round(cold2 / warm, 2) if warm else None,
            "shared_prefix_tokens_approx": shared,
            "prompt_tokens": med["ours_second_cold"]["prompt_tokens"]},
        "runs": runs,
        "llm": info,
        "settings": {k: getattr(settings, k) for k in (
            "llm_context", "llm_temperature", "model_threads", "answer_contexts",
            "answer_candidates", "embed_cache_size")},
        "overrides": overrides,
        "machine": {**machine, "loadavg_end": state()["loadavg"]},
        "run_seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    return print_measured(measure, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
