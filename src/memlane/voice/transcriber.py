"""Streaming transcription for one socket: audio in, partial and final transcripts out.

The buffer holds the current utterance only (plus a short pre-roll before it). Voice
activity runs on that buffer every `VAD_EVERY_S` of new audio. While speech goes on, a
partial transcript comes every `partial_every_s` of speech (less often if transcribing is
slow); speech followed by `silence_ms` of silence, or longer than `max_utterance_s`, is
transcribed once more as a final and dropped from the buffer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..models.speech import SAMPLE_RATE

if TYPE_CHECKING:
    from .models import VoiceModels

VAD_EVERY_S = 0.25
PRE_ROLL_S = 0.3
PAD_S = 0.2


@dataclass
class TranscriptEvent:
    text: str
    final: bool
    utterance: int
    start_s: float
    end_s: float
    audio: np.ndarray | None = None  # the utterance's samples, on finals only


class StreamingTranscriber:
    def __init__(self, voice: VoiceModels, *, silence_ms: int, partial_every_s: float,
                 max_utterance_s: float):
        self.voice = voice
        self.silence_s = silence_ms / 1000
        self.partial_every_s = partial_every_s
        self.max_utterance_s = max_utterance_s
        self.utterance = 0
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0  # samples dropped before the buffer's start
        self._unchecked: list[np.ndarray] = []  # pieces since voice activity last ran
        self._reset_partials()

    async def feed(self, samples: np.ndarray) -> list[TranscriptEvent]:
        self._unchecked.append(np.asarray(samples, dtype=np.float32).reshape(-1))
        if sum(map(len, self._unchecked)) < VAD_EVERY_S * SAMPLE_RATE:
            return []
        return await self._step(final=False)

    async def finish(self) -> list[TranscriptEvent]:
        """Finalise whatever speech remains; the transcriber can go on afterwards."""
        events = await self._step(final=True)
        self._drop(len(self._buffer))
        return events

    async def _step(self, final: bool) -> list[TranscriptEvent]:
        self._buffer = np.concatenate([self._buffer, *self._unchecked])
        self._unchecked = []
        events: list[TranscriptEvent] = []
        while len(self._buffer):
            groups = await self._utterances()
            if not groups:
                self._drop(len(self._buffer) - _samples(PRE_ROLL_S))
                return events
            start, end = groups[0]
            ended = len(groups) > 1 or self.buffered_s - end >= self.silence_s or final
            cut = end - start >= self.max_utterance_s
            if cut:
                end, ended = start + self.max_utterance_s, True
            if not ended:
                return events + await self._partial(start, end)
            events += await self._final(start, end, pad_end=not cut)
        return events

    async def _utterances(self) -> list[tuple[float, float]]:
        """Speech regions joined across gaps shorter than the silence that ends an
        utterance, with the buffer trimmed to a pre-roll before the first."""
        groups: list[list[float]] = []
        for start, end in await self.voice.speech(self._buffer):
            if groups and start - groups[-1][1] < self.silence_s:
                groups[-1][1] = max(groups[-1][1], end)
            else:
                groups.append([start, end])
        if not groups:
            return []
        shift = max(0, _samples(groups[0][0] - PRE_ROLL_S))
        self._drop(shift)
        return [(s - shift / SAMPLE_RATE, e - shift / SAMPLE_RATE) for s, e in groups]

    async def _partial(self, start: float, end: float) -> list[TranscriptEvent]:
        if end - start < self._next_partial_s:
            return []
        began = time.perf_counter()
        text = (await self.voice.transcribe(self._clip(start, end))).text.strip()
        cost = time.perf_counter() - began
        self._next_partial_s = end - start + max(self.partial_every_s, 2 * cost)
        if not text or text == self._last_partial:
            return []
        self._last_partial = text
        return [self._event(text, False, start, end)]

    async def _final(self, start: float, end: float, pad_end: bool) -> list[TranscriptEvent]:
        """Cut mid-speech (``pad_end`` false), the audio stops exactly at the cut."""
        audio = self._clip(start, end, pad_end)
        text = (await self.voice.transcribe(audio)).text.strip()
        event = self._event(text, True, start, end, audio)
        self._drop(max(1, _samples(end)))
        self._reset_partials()
        if not text:
            return []
        self.utterance += 1
        return [event]

    def _clip(self, start: float, end: float, pad_end: bool = True) -> np.ndarray:
        first = max(0, _samples(start - PAD_S))
        return self._buffer[first:_samples(end + PAD_S * pad_end)].copy()

    def _event(self, text: str, final: bool, start: float, end: float,
               audio: np.ndarray | None = None) -> TranscriptEvent:
        base = self._offset / SAMPLE_RATE
        return TranscriptEvent(text, final, self.utterance, round(base + start, 3),
                               round(base + end, 3), audio)

    def _drop(self, n: int) -> None:
        n = min(max(0, n), len(self._buffer))
        self._buffer = self._buffer[n:]
        self._offset += n

    @property
    def buffered_s(self) -> float:
        """Audio held: the utterance in progress, or at most a pre-roll of silence."""
        return (len(self._buffer) + sum(map(len, self._unchecked))) / SAMPLE_RATE

    def _reset_partials(self) -> None:
        self._next_partial_s = self.partial_every_s
        self._last_partial = ""


def _samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)
