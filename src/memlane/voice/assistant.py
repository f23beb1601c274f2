"""The voice assistant loop (SPEC E): a finished utterance becomes a chat turn, and the reply
is spoken sentence by sentence while the LLM is still writing the next one.

`respond` yields, in order: Heard (transcript and fused emotion), Status("thinking"),
then for each sentence Spoken (text and WAV audio; Status("speaking") before the first),
and last Replied (the whole reply, citations, ids, timings)."""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from ..chat.events import Done, Token
from ..chat.turn import Turns
from ..emotion.prosody import prosody, speech_emotion
from ..emotion.reading import EmotionReading
from ..emotion.service import Emotions
from .audio import wav_bytes
from .models import VoiceModels

_END = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+|\n+")
_REF = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_MARKUP = re.compile(r"[*_#`>]+")
LONG_CLAUSE = 160  # a sentence this long is spoken from its last comma


@dataclass
class Status:
    state: str  # listening | transcribing | thinking | speaking


@dataclass
class Heard:
    text: str
    emotion: EmotionReading
    parts: dict[str, dict] = field(default_factory=dict)  # the text and speech readings


@dataclass
class Spoken:
    index: int
    text: str
    audio: bytes  # a whole WAV file


@dataclass
class Replied:
    text: str
    citations: list[str]
    known: bool
    extra: dict
    timings_ms: dict[str, float]


VoiceEvent = Status | Heard | Spoken | Replied


async def hear(emotions: Emotions, text: str, audio: np.ndarray | None
               ) -> tuple[EmotionReading, dict[str, dict]]:
    """The emotion of something said: its words, fused with its prosody when there is
    audio."""
    from_text = await emotions.detect(text)
    if audio is None or not len(audio):
        return from_text, {"text": from_text.as_dict()}
    from_speech = speech_emotion(prosody(audio, words=len(text.split())))
    return (emotions.fuse(from_text, from_speech),
            {"text": from_text.as_dict(), "speech": from_speech.as_dict()})


class VoiceAssistant:
    """Voice conversations use the built-in "voice" agent: short spoken replies, and the
    memories placed after the history so the prompt's start stays in the LLM's cache."""
    agent = "voice"

    def __init__(self, voice: VoiceModels, emotions: Emotions, turns: Turns):
        self.voice, self.emotions, self.turns = voice, emotions, turns

    async def prepare(self, user_id: str, conversation_id: str) -> None:
        """Evaluate the next prompt's fixed start now (while the user is still talking)."""
        if messages := await self.turns.prefix(user_id, conversation_id):
            await self.turns.llm.prefill(messages)

    async def start(self, user_id: str, conversation_id: str | None) -> str:
        """The conversation to continue (checked to be the user's), or a new one."""
        chats = self.turns.conversations
        if conversation_id:
            return (await chats.get(user_id, conversation_id)).id
        return (await chats.create(user_id, title="voice", agent=self.agent)).id

    async def respond(self, user_id: str, conversation_id: str, text: str,
                      audio: np.ndarray | None = None) -> AsyncIterator[VoiceEvent]:
        start = time.perf_counter()
        reading, parts = await hear(self.emotions, text, audio)
        yield Heard(text, reading, parts)
        yield Status("thinking")
        sentences: asyncio.Queue = asyncio.Queue()
        writer = asyncio.create_task(self._write(user_id, conversation_id, text, reading,
                                                 sentences))
        try:
            index, first_audio_ms = 0, None
            while (item := await sentences.get()) is not None:
                if isinstance(item, Done):
                    done = item
                    continue
                spoken = await self._speak(item)
                if index == 0:
                    first_audio_ms = round((time.perf_counter() - start) * 1000, 1)
                    yield Status("speaking")
                yield Spoken(index, item, spoken)
                index += 1
            await writer
        finally:
            writer.cancel()
        timings = {**done.timings_ms, "first_audio": first_audio_ms}
        yield Replied(done.answer, done.citations, done.known, done.extra, timings)

    async def _speak(self, sentence: str) -> bytes:
        """The sentence as WAV; empty when text-to-speech is off or not installed."""
        if not self.voice.has_tts:
            return b""
        return wav_bytes(await self.voice.synthesize(sentence), self.voice.tts.sample_rate)

    async def _write(self, user_id: str, conversation_id: str, text: str,
                     reading: EmotionReading, out: asyncio.Queue) -> None:
        """Runs the chat turn and puts each finished sentence on ``out``, then Done, then
        None (also after a failure, which `respond` re-raises when it awaits this task)."""
        pending = ""
        try:
            async for event in self.turns.run(user_id, conversation_id, text, emotion=reading,
                                              metadata={"source": "voice"}):
                if isinstance(event, Token):
                    pending += event.text
                    ready, pending = split_sentences(pending)
                    for sentence in ready:
                        await out.put(sentence)
                elif isinstance(event, Done):
                    if spoken := speakable(pending):
                        await out.put(spoken)
                    await out.put(event)
        finally:
            await out.put(None)


def split_sentences(text: str) -> tuple[list[str], str]:
    """Finished sentences (made speakable) and the unfinished rest."""
    ready, last = [], 0
    for match in _END.finditer(text):
        if sentence := speakable(text[last:match.start()]):
            ready.append(sentence)
        last = match.end()
    rest = text[last:]
    if len(rest) > LONG_CLAUSE and (cut := rest.rfind(", ")) > 0:
        if clause := speakable(rest[:cut + 1]):
            ready.append(clause)
        rest = rest[cut + 2:]
    return ready, rest


def speakable(text: str) -> str:
    """Without citation markers and markdown, whitespace collapsed."""
    return " ".join(_MARKUP.sub("", _REF.sub("", text)).split())
