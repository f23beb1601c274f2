"""Audio in and out: raw PCM, WAV, Ogg/Opus and WebM to float32 mono 16 kHz, and back to WAV.

Containers are decoded with PyAV (FFmpeg), which also resamples. `Decoder` does the same for
a stream of pieces, e.g. the chunks a browser's MediaRecorder sends.
"""
from __future__ import annotations

import io
import threading
import wave
import weakref

import av
import numpy as np

from ..errors import Invalid
from ..models.speech import SAMPLE_RATE

ENCODINGS = ("auto", "pcm_s16le", "wav", "ogg", "webm")
MAGIC = ((b"RIFF", "wav"), (b"OggS", "ogg"), (b"\x1a\x45\xdf\xa3", "webm"))
FORMATS = {"wav": "wav", "ogg": "ogg", "webm": "matroska"}  # FFmpeg's demuxer names
LOW_LATENCY = {"probesize": "32", "analyzeduration": "0"}  # open on the headers alone
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
    return decode_container(data)


def decode_container(data: bytes) -> np.ndarray:
    resampler = _Resampler(None)
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise Invalid("could not decode audio: no audio stream", param="audio")
            pieces = [resampler.push_frame(f) for f in container.decode(audio=0)]
    except Invalid:
        raise
    except Exception as exc:  # FFmpeg and PyAV raise many kinds on hostile input
        raise Invalid(f"could not decode audio: {exc}", param="audio") from None
    return _join([*pieces, resampler.flush()])


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

    PCM converts piece by piece. Container pieces (e.g. MediaRecorder chunks) only decode
    as one stream: a thread of this decoder's own demuxes and decodes them as they come
    (see `_Pipe`). A container that does not decode yields nothing; `finish` then raises.
    """

    def __init__(self, encoding: str = "auto", sample_rate: int = SAMPLE_RATE):
        self.kind = None if encoding == "auto" else _kind(b"", encoding)
        self.sample_rate = sample_rate
        self._bytes = b""
        self._resampler = _Resampler(sample_rate)
        self._pipe: _Pipe | None = None

    def feed(self, data: bytes) -> np.ndarray:
        self._bytes += data
        if self.kind is None:
            if len(self._bytes) < 4:
                return EMPTY
            self.kind = sniff(self._bytes)
        if self.kind == "pcm_s16le":
            return _pcm(self._take(len(self._bytes) // 2 * 2), self._resampler, flush=False)
        return self._container().push(self._take(len(self._bytes)))

    def finish(self) -> np.ndarray:
        if self.kind is None:
            self.kind = sniff(self._bytes)
        if self.kind != "pcm_s16le":
            samples = self._container().push(self._take(len(self._bytes)), close=True)
            if not self._pipe.decoded:
                raise Invalid(f"could not decode audio: {self._pipe.error or 'no audio'}",
                              param="audio")
            return samples
        if len(self._bytes) % 2:
            raise Invalid("pcm_s16le audio ended with an odd number of bytes", param="audio")
        return _pcm(self._take(len(self._bytes)), self._resampler, flush=True)

    def _take(self, n: int) -> bytes:
        data, self._bytes = self._bytes[:n], self._bytes[n:]
        return data

    def _container(self) -> _Pipe:
        if self._pipe is None:
            self._pipe = _Pipe()
            weakref.finalize(self, self._pipe.close)  # an abandoned stream ends its thread
            threading.Thread(target=_decode_pipe, args=(self._pipe, FORMATS[self.kind]),
                             daemon=True, name="memlane-audio-decode").start()
        return self._pipe


class _Pipe:
    """Bytes from `push` to a decoder thread whose demuxer `read`s them, blocking while
    none are left; so each byte is read once and no packet is cut short. `push` returns
    once the thread has used every byte it can (it waits for more, or has ended)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._data = bytearray()
        self._closed = self._waiting = self._ended = False
        self._samples: list[np.ndarray] = []
        self.decoded = False
        self.error: str | None = None

    def push(self, data: bytes, close: bool = False) -> np.ndarray:
        with self._cond:
            self._data += data
            self._closed |= close
            self._waiting = False
            self._cond.notify_all()
            while not (self._ended or (self._waiting and not self._data)):
                self._cond.wait()
            samples, self._samples = self._samples, []
        return _join(samples)

    def read(self, size: int) -> bytes:
        with self._cond:
            while not self._data and not self._closed:
                self._waiting = True
                self._cond.notify_all()
                self._cond.wait()
            chunk = bytes(self._data[:size])
            del self._data[:size]
            return chunk

    def emit(self, samples: np.ndarray) -> None:
        with self._cond:
            self._samples.append(samples)
            self.decoded = self.decoded or len(samples) > 0

    def end(self, error: str | None = None) -> None:
        with self._cond:
            self._ended, self.error = True, error
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def _decode_pipe(pipe: _Pipe, container_format: str) -> None:
    resampler = _Resampler(None)
    try:
        with av.open(pipe, mode="r", format=container_format, metadata_errors="ignore",
                     options=LOW_LATENCY) as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                pipe.emit(_join([resampler.push_frame(f) for f in _decoded(stream, packet)]))
        pipe.emit(resampler.flush())
    except Exception as exc:  # FFmpeg and PyAV raise many kinds on hostile input
        pipe.end(str(exc))
    else:
        pipe.end()


def _decoded(stream, packet) -> list:
    try:
        return stream.codec_context.decode(packet)
    except av.FFmpegError:  # a corrupt packet: skip it
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
