"""Runs the speech models in threads, one call per model at a time (like `ModelRunner`)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from ..errors import Unavailable
from ..models.speech import SpeechToText, Transcript, VoiceActivity
from ..models.tts import TextToSpeech
from ..timing import Tally


class VoiceModels:
    def __init__(self, stt: SpeechToText, vad: VoiceActivity, tts: TextToSpeech | None):
        self.stt, self.vad, self.tts = stt, vad, tts
        self._locks = {name: asyncio.Semaphore(1) for name in ("stt", "vad", "tts")}
        self.warm: dict[str, float] = {}
        self.unavailable: dict[str, str] = {}  # model -> why (only the TTS may be)
        self.tally = Tally()

    @property
    def has_tts(self) -> bool:
        return self.tts is not None and self.tts.speaks and "tts" not in self.unavailable

    async def transcribe(self, audio: np.ndarray) -> Transcript:
        return await self._call("stt", self.stt.transcribe, audio)

    async def speech(self, audio: np.ndarray) -> list[tuple[float, float]]:
        return await self._call("vad", self.vad.speech, audio)

    async def synthesize(self, text: str) -> np.ndarray:
        if self.tts is None:
            raise Unavailable("text-to-speech is off (tts='none')")
        if "tts" in self.unavailable:
            raise Unavailable(self.unavailable["tts"])
        return await self._call("tts", self.tts.synthesize, text)

    async def warm_up(self) -> None:
        for name, model in self._models():
            start = time.perf_counter()
            try:
                await asyncio.to_thread(model.warm_up)
            except Unavailable as exc:
                if name != "tts":
                    raise
                self.unavailable[name] = exc.message
                continue
            self.warm[name] = round(time.perf_counter() - start, 3)

    def info(self) -> dict:
        out = {}
        for name, model in self._models():
            out[name] = {**model.info(), "loaded": name in self.warm}
            if name in self.unavailable:
                out[name]["error"] = self.unavailable[name]
        return out

    def _models(self) -> list[tuple[str, Any]]:
        models = [("stt", self.stt), ("vad", self.vad), ("tts", self.tts)]
        return [(name, model) for name, model in models if model is not None]

    async def _call(self, name: str, function, argument):
        async with self._locks[name]:
            return await self.tally.timed(name, asyncio.to_thread(function, argument))
