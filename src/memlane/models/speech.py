"""The speech seams: speech-to-text and voice activity, with the packaged local models.

Audio is float32 mono at 16 kHz in [-1, 1]. Calls are synchronous; `voice.models.VoiceModels`
runs them in threads, one call per model at a time.
"""
from __future__ import annotations

import math
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Unavailable

SAMPLE_RATE = 16000
WHISPER_WINDOW_S = 30.0  # up to one window, segment timestamps are not needed
FRAMES_PER_S = 100  # Whisper's mel frames
WINDOW_MARGIN_S = 3.0  # silence kept after a short clip in the window encoded


@dataclass
class Segment:
    start: float
    end: float
    text: str


@dataclass
class Transcript:
    text: str
    segments: list[Segment]
    duration_s: float
    language: str = "en"


class SpeechToText(ABC):
    name: str = "stt"

    @abstractmethod
    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcribe float32 mono 16 kHz audio."""

    def warm_up(self) -> None:
        self.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))

    def info(self) -> dict:
        return {"name": self.name}


class VoiceActivity(ABC):
    name: str = "vad"

    @abstractmethod
    def speech(self, audio: np.ndarray) -> list[tuple[float, float]]:
        """Speech regions, in seconds from the start of ``audio``."""

    def warm_up(self) -> None:
        self.speech(np.zeros(SAMPLE_RATE, dtype=np.float32))

    def info(self) -> dict:
        return {"name": self.name}


def mono16k(audio: np.ndarray) -> np.ndarray:
    return np.asarray(audio, dtype=np.float32).reshape(-1)


class WhisperSTT(SpeechToText):
    """Whisper base (CTranslate2, int8) run by faster-whisper, assembled from its packages."""
    name = "whisper-base-int8"

    def __init__(self, models_dir: Path, threads: int, beam_size: int = 1,
                 min_window_s: float = WHISPER_WINDOW_S):
        """``min_window_s``: the shortest audio window encoded (see `window_frames`)."""
        self.models_dir = Path(models_dir)
        self.threads, self.beam_size = threads, beam_size
        self.min_window_s = min_window_s
        self.path: Path | None = None
        self._model: Any = None
        self._load_lock = threading.Lock()

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            from .weights import packaged_whisper
            self.path = packaged_whisper(self.models_dir)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                model_class = _windowed_whisper()
            except ImportError:
                raise Unavailable("speech-to-text needs faster-whisper: "
                                  "pip install faster-whisper==1.2.1") from None
            self._model = model_class(str(self.path), device="cpu", compute_type="int8",
                                      cpu_threads=self.threads)

    def warm_up(self) -> None:
        self.load()
        super().warm_up()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        self.load()
        audio = mono16k(audio)
        duration = len(audio) / SAMPLE_RATE
        if not len(audio):
            return Transcript("", [], 0.0)
        _window.frames = window_frames(duration, self.min_window_s)
        try:
            pieces, _ = self._model.transcribe(
                audio, language="en", beam_size=self.beam_size, vad_filter=False,
                condition_on_previous_text=False,
                without_timestamps=duration <= WHISPER_WINDOW_S)
            segments = [Segment(round(s.start, 2), round(s.end, 2), s.text.strip())
                        for s in pieces if s.text.strip()]
        finally:
            _window.frames = None
        return Transcript(" ".join(s.text for s in segments), segments, duration)

    def info(self) -> dict:
        return {"name": self.name, "beam_size": self.beam_size, "threads": self.threads,
                "min_window_s": self.min_window_s, "path": str(self.path) if self.path else None}


def window_frames(duration_s: float, min_window_s: float) -> int:
    """The mel frames Whisper encodes for a clip: its length plus a margin of silence, at
    least ``min_window_s``, at most Whisper's 30 s window. The encoder's cost grows with
    the window, and a short clip's 30 s window is mostly padding; a window shorter than
    about 10 s makes Whisper base repeat itself."""
    seconds = min(WHISPER_WINDOW_S, max(min_window_s, duration_s + WINDOW_MARGIN_S))
    return math.ceil(seconds * FRAMES_PER_S)


_window = threading.local()  # the frames to encode during this thread's transcription


def _windowed_whisper() -> type:
    from faster_whisper import WhisperModel

    class WindowedWhisper(WhisperModel):
        """faster-whisper pads every window to 30 s; this encodes the start of it only."""

        def encode(self, features: np.ndarray) -> Any:
            frames = getattr(_window, "frames", None)
            return super().encode(features[..., :frames] if frames else features)

    return WindowedWhisper


class SileroVAD(VoiceActivity):
    """Silero VAD v6, the ONNX file faster-whisper ships in its assets."""
    name = "silero-v6"
    min_speech_ms = 150

    def __init__(self, threshold: float, min_silence_ms: int):
        self.threshold, self.min_silence_ms = threshold, min_silence_ms

    def speech(self, audio: np.ndarray) -> list[tuple[float, float]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
        options = VadOptions(threshold=self.threshold, min_silence_duration_ms=self.min_silence_ms,
                             min_speech_duration_ms=self.min_speech_ms, speech_pad_ms=0)
        found = get_speech_timestamps(mono16k(audio), options, sampling_rate=SAMPLE_RATE)
        return [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in found]

    def info(self) -> dict:
        return {"name": self.name, "threshold": self.threshold,
                "min_silence_ms": self.min_silence_ms}
