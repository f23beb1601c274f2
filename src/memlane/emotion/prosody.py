"""Prosody of a spoken utterance (energy, pitch, rate) and the weak emotion it suggests.

Pitch is the autocorrelation peak of 40 ms frames every 20 ms, between 70 and 400 Hz,
on frames loud enough to be speech and periodic enough to be voiced. numpy only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from .labels import AROUSAL, HIGH, LABELS
from .reading import EmotionReading

FRAME_S, HOP_S = 0.04, 0.02
F0_MIN, F0_MAX = 70.0, 400.0
SILENCE_DB = -50.0  # frames quieter than this (dBFS), or 35 dB under the loudest, are pauses
VOICING = 0.45  # normalised autocorrelation needed to call a frame voiced
SPEECH_CONFIDENCE = 0.6  # prosody alone never claims more than this
# Typical conversational speech, used when there is no baseline of the speaker.
TYPICAL = {"energy_db": -24.0, "energy_var": 8.0, "pitch_var": 3.0, "speaking_rate": 2.6}


@dataclass
class Prosody:
    energy_db: float  # mean frame RMS of the speech frames, dBFS
    energy_var: float  # spread (standard deviation) of the speech frames' energy, dB
    pitch_hz: float  # median F0 of the voiced frames (0 when none)
    pitch_var: float  # spread (standard deviation) of F0, semitones
    speaking_rate: float | None  # words per second of speech (from first to last sound)
    voiced_ratio: float  # share of all frames that are voiced
    duration_s: float = 0.0

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def prosody(audio: np.ndarray, sample_rate: int = 16000, words: int | None = None) -> Prosody:
    """Prosodic features of mono audio (float in [-1, 1], or integer PCM)."""
    signal = _as_float(audio)
    frame, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    duration = len(signal) / sample_rate
    if len(signal) < frame:
        return Prosody(-100.0, 0.0, 0.0, 0.0, None, 0.0, duration)
    frames = np.lib.stride_tricks.sliding_window_view(signal, frame)[::hop]
    db = 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-10)
    active = db > max(SILENCE_DB, db.max() - 35.0)
    f0 = _pitch(frames[active], sample_rate)
    voiced = f0[f0 > 0]
    span = np.flatnonzero(active)
    spoken_s = (span[-1] - span[0] + 1) * HOP_S if len(span) else 0.0
    return Prosody(
        energy_db=float(db[active].mean()) if active.any() else -100.0,
        energy_var=float(db[active].std()) if active.any() else 0.0,
        pitch_hz=float(np.median(voiced)) if len(voiced) else 0.0,
        pitch_var=_spread(voiced),
        speaking_rate=(float(words / spoken_s) if words and spoken_s > 0 else None),
        voiced_ratio=len(voiced) / len(frames),
        duration_s=duration)


def speech_emotion(p: Prosody, baseline: Prosody | None = None) -> EmotionReading:
    """A low-confidence reading from arousal alone: loud, varied, high, fast speech leans to
    anger/fear/surprise/joy; quiet, flat, low, slow speech to sadness/neutral. Compared with
    the speaker's ``baseline`` when given, else with typical conversational speech. The
    confidence is at most 0.6, and lower the closer the voice is to the reference."""
    if p.voiced_ratio == 0:
        return _from_arousal(None)
    return _from_arousal(arousal(p, baseline))


def arousal(p: Prosody, baseline: Prosody | None = None) -> float:
    """Arousal in [0, 1] (0.5 = like the reference) from energy, pitch, variation and rate."""
    ref = baseline or Prosody(TYPICAL["energy_db"], TYPICAL["energy_var"], 0.0,
                              TYPICAL["pitch_var"], TYPICAL["speaking_rate"], 0.5)
    z = [(p.energy_db - ref.energy_db) / 6.0,
         (p.energy_var - ref.energy_var) / 3.0,
         (p.pitch_var - ref.pitch_var) / 1.5]
    if ref.pitch_hz and p.pitch_hz:
        z.append(12 * np.log2(p.pitch_hz / ref.pitch_hz) / 2.0)
    if p.speaking_rate and ref.speaking_rate:
        z.append((p.speaking_rate - ref.speaking_rate) / 0.8)
    return float(1 / (1 + np.exp(-np.clip(np.mean(z) * 2.0, -20, 20))))


def _from_arousal(level: float | None) -> EmotionReading:
    """Above the reference (0.5) the excess goes to the high-arousal labels, nearest to the
    level first (mildly raised: joy, disgust; very raised: fear, surprise, anger); below it
    the shortfall goes to sadness; neutral keeps (the rest)². Smoothed towards uniform."""
    if level is None:
        scores = dict.fromkeys(LABELS, 1.0) | {"neutral": 2.0}
    else:
        high, low = max(0.0, 2 * level - 1), max(0.0, 1 - 2 * level)
        centre = 0.6 + 0.3 * high
        near = {label: np.exp(-((centre - AROUSAL[label]) ** 2) / 0.02)
                for label in (*HIGH, "disgust")}
        total = sum(near.values())
        raw = {label: high * k / total for label, k in near.items()}
        raw |= {"sadness": low, "neutral": (1 - high - low) ** 2}
        scores = {label: 0.7 * raw[label] + 0.3 / len(LABELS) for label in LABELS}
    reading = EmotionReading.from_scores(scores, source="speech")
    # a voice like the reference says little: confidence grows with the distance from it
    distance = abs(2 * level - 1) if level is not None else 0.0
    reading.confidence = min(reading.confidence, SPEECH_CONFIDENCE * (0.3 + 0.7 * distance))
    return reading


def _spread(f0: np.ndarray) -> float:
    """Standard deviation of F0 in semitones, ignoring octave errors (frames more than
    9 semitones from the median)."""
    if len(f0) < 2:
        return 0.0
    semitones = 12 * np.log2(f0 / np.median(f0))
    kept = semitones[np.abs(semitones) < 9]
    return float(kept.std()) if len(kept) > 1 else 0.0


def _pitch(frames: np.ndarray, sample_rate: int) -> np.ndarray:
    """F0 per frame (0 when unvoiced) from the normalised autocorrelation (via FFT)."""
    if not len(frames):
        return np.zeros(0)
    window, decay = _window(frames.shape[1])
    x = (frames - frames.mean(axis=1, keepdims=True)) * window
    n = 1 << (2 * frames.shape[1] - 1).bit_length()
    spectrum = np.fft.rfft(x, n)
    corr = np.fft.irfft(spectrum * spectrum.conj(), n)[:, :frames.shape[1]]
    corr /= np.maximum(corr[:, :1], 1e-12) * decay
    low, high = int(sample_rate / F0_MAX), int(sample_rate / F0_MIN)
    band = corr[:, low:high]
    best = band.max(axis=1)
    # the first peak near the best one: avoids picking a multiple of the period
    inner = band[:, 1:-1]
    peak = (inner >= band[:, :-2]) & (inner >= band[:, 2:]) & (inner >= 0.9 * best[:, None])
    lag = np.where(peak.any(axis=1), peak.argmax(axis=1) + 1, band.argmax(axis=1))
    return np.where(best > VOICING, sample_rate / (_interpolate(band, lag) + low), 0.0)


@lru_cache(maxsize=8)
def _window(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A Hann window and its own normalised autocorrelation, which biases long lags down
    (dividing by it undoes that)."""
    window = np.hanning(size)
    decay = np.correlate(window, window, "full")[size - 1:]
    return window, np.maximum(decay / decay[0], 1e-3)


def _interpolate(band: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """The peak's lag refined by a parabola through it and its neighbours."""
    rows, last = np.arange(len(band)), band.shape[1] - 1
    a, b = band[rows, np.maximum(lag - 1, 0)], band[rows, lag]
    c = band[rows, np.minimum(lag + 1, last)]
    curve = a - 2 * b + c
    shift = np.where((lag > 0) & (lag < last) & (curve < 0),
                     0.5 * (a - c) / np.where(curve < 0, curve, -1.0), 0.0)
    return lag + np.clip(shift, -0.5, 0.5)


def _as_float(audio: np.ndarray) -> np.ndarray:
    signal = np.asarray(audio).reshape(-1)
    if np.issubdtype(signal.dtype, np.integer):
        return signal.astype(np.float32) / float(np.iinfo(signal.dtype).max)
    return signal.astype(np.float32, copy=False)
