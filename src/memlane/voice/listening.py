"""One socket's ear: audio pieces in any accepted encoding → decoded samples → utterances
→ partial and final transcripts. Refuses more than ``max_audio_s`` of audio per stream."""
from __future__ import annotations

import asyncio

from ..config import Settings
from ..errors import Invalid, PayloadTooLarge, Unavailable
from ..models.speech import SAMPLE_RATE
from .audio import Decoder
from .models import VoiceModels
from .transcriber import StreamingTranscriber, TranscriptEvent

NO_PARTIALS = float("inf")


class Listener:
    def __init__(self, voice: VoiceModels | None, settings: Settings, *,
                 partials: bool = True):
        self.voice, self.settings = voice, settings
        self.partial_every_s = settings.partial_every_s if partials else NO_PARTIALS
        self._decoder: Decoder | None = None
        self._format: tuple[str, int] | None = None
        self._samples = 0
        self.transcriber = StreamingTranscriber(
            voice, silence_ms=settings.utterance_silence_ms,
            partial_every_s=self.partial_every_s, max_utterance_s=settings.max_utterance_s)

    async def feed(self, data: bytes, encoding: str = "auto",
                   sample_rate: int = SAMPLE_RATE) -> list[TranscriptEvent]:
        self._require_voice()
        decoder = self._decoder_for(encoding, sample_rate or SAMPLE_RATE)
        return await self._hear(await _decoded(decoder, decoder.feed, data))

    async def finish(self) -> list[TranscriptEvent]:
        """The end of the stream: the rest is transcribed, and a new stream may follow."""
        self._require_voice()
        decoder, events = self._decoder, []
        self._decoder, self._format = None, None
        try:
            if decoder is not None:
                events = await self._hear(await _decoded(decoder, decoder.finish))
        finally:
            self._samples = 0
        return events + await self.transcriber.finish()

    async def _hear(self, samples) -> list[TranscriptEvent]:
        self._samples += len(samples)
        if self._samples > self.settings.max_audio_s * SAMPLE_RATE:
            self._decoder, self._format, self._samples = None, None, 0
            raise PayloadTooLarge(f"more than {self.settings.max_audio_s:g} s of audio in "
                                  "one stream; end it and start another")
        return await self.transcriber.feed(samples) if len(samples) else []

    def _require_voice(self) -> None:
        if self.voice is None:
            raise Unavailable("speech is off on this server (voice_enabled=false): send "
                              "text instead")

    def _decoder_for(self, encoding: str, sample_rate: int) -> Decoder:
        if self._decoder is None:
            self._decoder = Decoder(encoding, sample_rate)
            self._format = (encoding, sample_rate)
        elif encoding != "auto" and (encoding, sample_rate) != self._format:
            raise Invalid(f"this stream is {self._format[0]} at {self._format[1]} Hz; end it "
                          "before sending another format", param="audio.encoding")
        return self._decoder


async def _decoded(decoder: Decoder, step, *args):
    """Containers decode in a thread (FFmpeg); raw PCM converts in place."""
    if decoder.kind == "pcm_s16le":
        return step(*args)
    return await asyncio.to_thread(step, *args)
