"""Speech fakes that are real implementations, registered like the built-ins.

A "tone codec": `ToneTTS` turns each character into 320 samples (20 ms at 16 kHz) of
amplitude ord(c) * 64 with the sign alternating every sample, sentences 0.2 s apart;
`ToneSTT` reads it back. `EnergyVAD` finds the samples that are not silent.
"""
from __future__ import annotations

import re

import numpy as np

from memlane.models.registry import register
from memlane.models.speech import SAMPLE_RATE, Segment, SpeechToText, Transcript, VoiceActivity
from memlane.models.tts import TextToSpeech

CHAR = 320
STEP = 64
GAP = int(0.2 * SAMPLE_RATE)


class ToneTTS(TextToSpeech):
    name = "tone"
    sample_rate = SAMPLE_RATE

    def synthesize(self, text: str) -> np.ndarray:
        pieces = []
        for sentence in sentences(text):
            if pieces:
                pieces.append(np.zeros(GAP, dtype=np.int16))
            pieces.append(encode(sentence))
        return np.concatenate([np.zeros(0, dtype=np.int16), *pieces])


def sentences(text: str) -> list[str]:
    return [m.group().strip() for m in re.finditer(r"[^.!?]+[.!?]*", text) if m.group().strip()]


def encode(sentence: str) -> np.ndarray:
    values = np.repeat([min(ord(c) * STEP, 32767) for c in sentence], CHAR)
    signs = np.where(np.arange(len(values)) % 2, -1, 1)
    return (values * signs).astype(np.int16)


class ToneSTT(SpeechToText):
    name = "tone"

    def transcribe(self, audio: np.ndarray) -> Transcript:
        levels = np.rint(np.abs(np.asarray(audio, dtype=np.float32)) * 32768 / STEP).astype(int)
        segments, chars, begin = [], [], 0
        for value, start, length in _runs(levels):
            if value == 0:
                if length >= GAP // 2 and chars:
                    segments.append(_segment(chars, begin, start))
                    chars = []
                continue
            if not chars:
                begin = start
            chars.extend(chr(value) * round(length / CHAR))
        if chars:
            segments.append(_segment(chars, begin, len(levels)))
        return Transcript(" ".join(s.text for s in segments), segments, len(levels) / SAMPLE_RATE)


def _segment(chars: list[str], start: int, end: int) -> Segment:
    return Segment(start / SAMPLE_RATE, end / SAMPLE_RATE, "".join(chars))


def _runs(values: np.ndarray):
    """(value, start, length) for each run of equal values."""
    if not len(values):
        return
    edges = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(values)]])
    for start, end in zip(starts, ends):
        yield int(values[start]), int(start), int(end - start)


class EnergyVAD(VoiceActivity):
    name = "energy"
    threshold = 0.01
    merge_s = 0.3

    def speech(self, audio: np.ndarray) -> list[tuple[float, float]]:
        loud = np.abs(np.asarray(audio, dtype=np.float32)) > self.threshold
        regions: list[list[float]] = []
        for value, start, length in _runs(loud.astype(int)):
            if not value:
                continue
            begin, end = start / SAMPLE_RATE, (start + length) / SAMPLE_RATE
            if regions and begin - regions[-1][1] < self.merge_s:
                regions[-1][1] = end
            else:
                regions.append([begin, end])
        return [(a, b) for a, b in regions]


@register("tts", "tone")
def _tone_tts(settings):
    return ToneTTS()


@register("stt", "tone")
def _tone_stt(settings):
    return ToneSTT()


@register("vad", "energy")
def _energy(settings):
    return EnergyVAD()
