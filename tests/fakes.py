"""Fakes that are real implementations, registered through the same registry as the
built-ins: a deterministic hash embedder and a regex NLP. No patching."""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import deque

import numpy as np

from memlane.domain import EntityMention
from memlane.emotion.reading import EmotionReading
from memlane.models.embedder import Embedder, normalise
from memlane.models.llm import LLM, Delta, Usage
from memlane.models.nlp import NLP, Parsed
from memlane.models.registry import register

STOP = {"the", "a", "an", "is", "to", "of", "and", "in", "on", "did", "what", "where", "who",
        "my", "i", "me", "was", "it", "for", "at", "when", "do", "does"}


class HashEmbedder(Embedder):
    """Bag of hashed words: texts sharing words are similar, deterministic, instant."""
    name = "hash"
    dim = 64

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0
            out[row, self.dim - 1] += 0.01
        return normalise(out)


class RegexNLP(NLP):
    """Sentences split at . ! ?, entities are capitalised words not at a sentence start."""
    name = "regex"

    def parse(self, texts: list[str]) -> list[Parsed]:
        return [self._parse(t) for t in texts]

    @staticmethod
    def _parse(text: str) -> Parsed:
        sentences = [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+[.!?]*", text)
                     if m.group().strip()]
        words = list(re.finditer(r"\w+|[^\w\s]", text))
        starts = {s for s, _ in sentences} | {s + len(text[s:e]) - len(text[s:e].lstrip())
                                              for s, e in sentences}
        ents = [EntityMention(w.group(), "PERSON") for w in words
                if w.group()[0].isupper() and w.start() not in starts
                and w.group().lower() not in STOP]
        return Parsed(sentences, ents)


@register("embedder", "hash")
def _hash(settings):
    return HashEmbedder(cache_size=settings.embed_cache_size)


@register("nlp", "regex")
def _regex(settings):
    return RegexNLP()


class SlowNLP(RegexNLP):
    """RegexNLP that takes as long as a real parser does on hostile text: time grows with
    the square of a call's length (``per_kchar2`` s per 1000 characters squared). Records
    the length of each call."""
    name = "slow"

    def __init__(self, per_kchar2: float = 0.2):
        self.per_kchar2, self.calls = per_kchar2, []

    def parse(self, texts: list[str]) -> list[Parsed]:
        size = sum(map(len, texts))
        self.calls.append(size)
        time.sleep(self.per_kchar2 * (size / 1000) ** 2)
        return super().parse(texts)


@register("nlp", "slow")
def _slow(settings):
    return SlowNLP()


class ScriptedLLM(LLM):
    """Replies from a script: `enqueue("text", {"json": ...})` in order; when the script
    is empty it echoes the last user message (JSON requests get an empty object of the
    schema's shape). Every call's messages are kept in `calls` for assertions."""
    name = "scripted"
    context_window = 4096

    def __init__(self, context_window: int = 4096):
        self.context_window = context_window
        self.script: deque = deque()
        self.calls: list[dict] = []
        self.prefills: list[list[dict]] = []

    def enqueue(self, *replies) -> None:
        self.script.extend(replies)

    async def prefill(self, messages) -> None:
        self.prefills.append(messages)

    async def stream(self, messages, *, max_tokens=512, temperature=0.2, json_schema=None,
                     stop=None):
        self.calls.append({"messages": messages, "json_schema": json_schema,
                           "max_tokens": max_tokens})
        text = self._reply(messages, json_schema)
        words = re.findall(r"\S+\s*", text)[:max_tokens]
        for word in words:
            await asyncio.sleep(0)
            yield Delta(word)
        reason = "length" if len(re.findall(r"\S+", text)) > max_tokens else "stop"
        prompt = sum(self.count_tokens(m["content"]) for m in messages)
        yield Delta(finish_reason=reason, usage=Usage(prompt, len(words)))

    def _reply(self, messages, json_schema) -> str:
        if self.script:
            reply = self.script.popleft()
            return reply if isinstance(reply, str) else json.dumps(reply)
        if json_schema is not None:
            return json.dumps(_empty_of(json_schema))
        users = [m["content"] for m in messages if m["role"] == "user"]
        return f"You said: {users[-1]}" if users else "Hello."


def _empty_of(schema: dict):
    kind = schema.get("type")
    if kind == "object":
        return {k: _empty_of(v) for k, v in schema.get("properties", {}).items()
                if k in schema.get("required", [])}
    if "enum" in schema:
        return schema["enum"][-1]
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(kind)


@register("llm", "scripted")
def _scripted(settings):
    return ScriptedLLM(context_window=settings.llm_context)


class SlowFactsLLM(ScriptedLLM):
    """For restart tests: fact extraction takes ``delay`` seconds and returns the user's
    message as the one fact. Chat replies are instant echoes."""
    name = "slow-facts"

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def stream(self, messages, **options):
        schema = options.get("json_schema") or {}
        if "facts" in schema.get("properties", {}):
            await asyncio.sleep(self.delay)
            self.enqueue({"facts": [messages[-1]["content"]]})
        async for delta in super().stream(messages, **options):
            yield delta


@register("llm", "slow-facts")
def _slow_facts(settings):
    import os
    return SlowFactsLLM(float(os.environ.get("FAKE_LLM_DELAY_S", "0")))


class FixedEmotion:
    """An emotion classifier that reads every text as ``label`` with ``confidence`` (set
    them in a test): a real classifier for the engine, deterministic for assertions."""
    fitted = True

    def __init__(self):
        self.label, self.confidence = "neutral", 0.9

    def fit(self, vectors, labels):
        return self

    def classify(self, vectors) -> list[EmotionReading]:
        rest = (1 - self.confidence) / 6
        scores = {label: rest for label in ("joy", "sadness", "anger", "fear", "surprise",
                                            "disgust", "neutral")}
        scores[self.label] = self.confidence
        return [EmotionReading.from_scores(scores) for _ in range(len(vectors))]

    def info(self) -> dict:
        return {"method": "fixed", "label": self.label}


@register("emotion", "fixed")
def _fixed(settings):
    return FixedEmotion()
