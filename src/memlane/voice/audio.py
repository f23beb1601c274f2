"""Audio in and out: raw PCM, WAV, Ogg/Opus and WebM to float32 mono 16 kHz, and back to WAV.

Containers are decoded with PyAV (FFmpeg), which also resamples. `Decoder` does the same for
a stream of pieces, e.g. the chunks a browser's MediaRecorder sends.
"""
from __future__ import annotations

import io
import wave

import av
import numpy as np

from ..errors import Invalid
from ..models.speech import SAMPLE_RATE

ENCODINGS = ("auto", "pcm_s16le", "wav", "ogg", "webm")
MAGIC = ((b"RIFF", "wav"), (b"OggS", "ogg"), (b"\x1a\x45\xdf\xa3", "webm"))
EMPTY = np.zeros(0, dtype=np.float32)


def sniff(data: bytes) -> str:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return "pcm_s16le"


def decode(data: bytes, encoding: str = "auto", sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """float32 mono 16 kHz samples from ``data``."""
    kind = _kind(data, encoding)
    if kind == "pcm_s16le":
        if len(data) % 2:
            raise Invalid("pcm_s16le audio has an odd number of bytes", param="audio")
        return _pcm(data, _Resampler(sample_rate), flush=True)
    return _Container().decode(data, final=True)


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """float32 mono from ``rate`` to ``target`` Hz."""
    samples = np.asarray(samples, dtype=np.float32)
    if rate == target:
        return samples
    resampler = _Resampler(rate, target)
    return _join([resampler.push(samples), resampler.flush()])


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767).round().astype(np.int16)


def to_float32(samples: np.ndarray) -> np.ndarray:
    return (np.asarray(samples, dtype=np.int16) / 32768.0).astype(np.float32)


def wav_bytes(samples_int16: np.ndarray, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(samples_int16, dtype="<i2").tobytes())
    return out.getvalue()


class Decoder:
    """Streaming decode: `feed` returns only the new samples; `finish` returns the rest.

    PCM converts piece by piece. Container pieces (e.g. MediaRecorder chunks) only make
    sense as one stream, so their bytes accumulate; see `_Container`. Until the stream
    opens, feeding returns nothing; `finish` raises Invalid if it never did.
    """

    def __init__(self, encoding: str = "auto", sample_rate: int = SAMPLE_RATE):
        self.kind = None if encoding == "auto" else _kind(b"", encoding)
        self.sample_rate = sample_rate
        self._bytes = b""
        self._resampler = _Resampler(sample_rate)
        self._container = _Container()

    def feed(self, data: bytes) -> np.ndarray:
        self._bytes += data
        if self.kind is None:
            if len(self._bytes) < 4:
                return EMPTY
            self.kind = sniff(self._bytes)
        if self.kind == "pcm_s16le":
            return _pcm(self._take(len(self._bytes) // 2 * 2), self._resampler, flush=False)
        try:
            return self._container.decode(self._bytes, final=False)
        except Invalid:
            return EMPTY

    def finish(self) -> np.ndarray:
        if self.kind is None:
            self.kind = sniff(self._bytes)
        if self.kind != "pcm_s16le":
            return self._container.decode(self._bytes, final=True)
        if len(self._bytes) % 2:
            raise Invalid("pcm_s16le audio ended with an odd number of bytes", param="audio")
        return _pcm(self._take(len(self._bytes)), self._resampler, flush=True)

    def _take(self, n: int) -> bytes:
        data, self._bytes = self._bytes[:n], self._bytes[n:]
        return data


class _Container:
    """Decodes a container stream that may still be growing.

    Each call demultiplexes the whole buffer again (cheap: ~0.1 s for 5 minutes of Opus)
    but decodes only the packets not decoded before, with the decoder of the first
    container opened. Unless ``final``, the last packet waits for more bytes, as it may be
    cut short. A packet that fails to decode is skipped.
    """

    def __init__(self) -> None:
        self._first = None  # kept open: its stream's decoder carries on across calls
        self._codec = None
        self._done = 0
        self._resampler = _Resampler(None)

    def decode(self, data: bytes, final: bool) -> np.ndarray:
        packets = self._demux(data)
        if self._codec is None:
            return self._nothing(final)
        ready = packets if final else packets[:-1]
        frames = [f for p in ready[self._done:] for f in self._decode(p)]
        self._done = max(self._done, len(ready))
        if not final:
            return _join([self._resampler.push_frame(f) for f in frames])
        frames += self._decode(None)
        pieces = [self._resampler.push_frame(f) for f in frames]
        self._first.close()
        return _join([*pieces, self._resampler.flush()])

    def _demux(self, data: bytes) -> list:
        try:
            container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
        except Exception as exc:  # FFmpeg and PyAV raise many kinds on hostile input
            raise Invalid(f"could not decode audio: {exc}", param="audio") from None
        if not container.streams.audio:
            container.close()
            raise Invalid("could not decode audio: no audio stream", param="audio")
        stream, packets = container.streams.audio[0], []
        try:
            for packet in container.demux(stream):
                if packet.size:
                    packets.append(packet)
        except Exception:  # a cut-short tail: keep the packets read before it
            pass
        if self._first is None and packets:  # the headers are complete: adopt its decoder
            self._first, self._codec = container, stream.codec_context
        else:
            container.close()
        return packets

    def _nothing(self, final: bool) -> np.ndarray:
        if final:
            raise Invalid("could not decode audio: no audio packets", param="audio")
        return EMPTY

    def _decode(self, packet) -> list:
        try:
            return self._codec.decode(packet)
        except Exception:  # a corrupt packet: skip it
            return []


class _Resampler:
    """float32 mono to ``target`` Hz through libswresample, keeping state across pieces."""

    def __init__(self, rate: int | None, target: int = SAMPLE_RATE):
        self.rate, self.target = rate, target
        self._av = None if rate == target else av.AudioResampler(
            format="flt", layout="mono", rate=target)

    def push(self, samples: np.ndarray) -> np.ndarray:
        if self._av is None or not len(samples):
            return samples
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.rate
        return self.push_frame(frame)

    def push_frame(self, frame) -> np.ndarray:
        return _join(self._av.resample(frame))

    def flush(self) -> np.ndarray:
        return EMPTY if self._av is None else _join(self._av.resample(None))


def _pcm(data: bytes, resampler: _Resampler, flush: bool) -> np.ndarray:
    samples = resampler.push(to_float32(np.frombuffer(data, dtype="<i2")))
    return _join([samples, resampler.flush()]) if flush else samples


def _join(pieces) -> np.ndarray:
    arrays = [p.to_ndarray().reshape(-1) if isinstance(p, av.AudioFrame) else p
              for p in pieces]
    return np.concatenate([EMPTY, *arrays]).astype(np.float32, copy=False)


def _kind(data: bytes, encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise Invalid(f"unknown audio encoding {encoding!r}; use one of {', '.join(ENCODINGS)}",
                      param="encoding")
    return sniff(data) if encoding == "auto" else encoding
