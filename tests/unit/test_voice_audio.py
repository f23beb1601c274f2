"""Audio decoding: raw PCM, WAV, Ogg/Opus and WebM to float32 mono 16 kHz, whole or streamed."""
import gc
import io
import threading
import time
import wave

import numpy as np
import pytest

from memlane.errors import Invalid
from memlane.voice.audio import (
    Decoder,
    decode,
    resample,
    sniff,
    to_float32,
    to_int16,
    wav_bytes,
)
from voice_support import encode_opus, wer


def tone(seconds=1.0, rate=16000, hz=440.0):
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def similar(a, b, margin=200):
    n = min(len(a), len(b)) - margin
    return float(np.corrcoef(a[margin:n], b[margin:n])[0, 1])


def test_sniffing_by_magic_bytes():
    assert sniff(wav_bytes(np.zeros(10, np.int16), 16000)) == "wav"
    assert sniff(b"OggS\x00\x02") == "ogg"
    assert sniff(b"\x1a\x45\xdf\xa3\x01") == "webm"
    assert sniff(b"\x01\x02\x03\x04") == "pcm_s16le"


def test_int16_float32_round_trip():
    x = tone()
    assert np.abs(to_float32(to_int16(x)) - x).max() < 1e-4
    assert to_int16(np.array([2.0, -2.0], np.float32)).tolist() == [32767, -32767]


def test_pcm_at_16k_is_converted_directly():
    samples = np.array([0, 16384, -16384, 32767], dtype=np.int16)
    out = decode(samples.tobytes(), "pcm_s16le")
    assert out.dtype == np.float32 and out.tolist() == pytest.approx([0, 0.5, -0.5, 1], abs=1e-4)


def test_pcm_at_other_rates_is_resampled_to_16k():
    x = tone(2.0)
    for rate in (8000, 44100, 48000):
        data = to_int16(resample(x, 16000, rate)).tobytes()
        out = decode(data, "pcm_s16le", sample_rate=rate)
        assert abs(len(out) - len(x)) <= 2 and similar(out, x) > 0.99


def test_odd_pcm_byte_count_is_invalid():
    with pytest.raises(Invalid, match="odd"):
        decode(b"\x00\x01\x02", "pcm_s16le")


def test_wav_round_trip_and_resampling():
    x = tone(1.5)
    data = wav_bytes(to_int16(x), 16000)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
    assert np.abs(decode(data) - x).max() < 1e-3
    at_44k = decode(wav_bytes(to_int16(resample(x, 16000, 44100)), 44100), "wav")
    assert abs(len(at_44k) - len(x)) <= 2 and similar(at_44k, x) > 0.99


def test_stereo_wav_is_mixed_to_mono():
    x = tone(1.0)
    stereo = np.stack([to_int16(x), to_int16(x)], axis=1)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(stereo.tobytes())
    mono = decode(out.getvalue())
    assert len(mono) == len(x) and similar(mono, x) > 0.99


@pytest.mark.parametrize("container", ["ogg", "webm"])
def test_opus_containers_decode(container):
    x = tone(2.0)
    data = encode_opus(x, container)
    for encoding in (container, "auto"):
        out = decode(data, encoding)
        assert abs(len(out) - len(x)) < 400 and similar(out, x) > 0.98


@pytest.mark.parametrize("data, encoding", [
    (b"RIFF" + bytes(40), "auto"),
    (b"OggS" + b"\x07" * 200, "auto"),
    (b"\x1a\x45\xdf\xa3" + b"garbage" * 20, "auto"),
    (b"just some bytes", "wav"),
    (b"", "webm"),
])
def test_corrupt_containers_are_invalid(data, encoding):
    with pytest.raises(Invalid, match="could not decode audio"):
        decode(data, encoding)


def test_unknown_encoding_is_invalid():
    with pytest.raises(Invalid, match="unknown audio encoding"):
        decode(b"\x00\x00", "mp9")


def test_streamed_pcm_carries_odd_bytes():
    data = to_int16(tone(0.5)).tobytes()
    decoder = Decoder("pcm_s16le")
    pieces = [decoder.feed(data[i:i + 333]) for i in range(0, len(data), 333)]
    out = np.concatenate([*pieces, decoder.finish()])
    assert np.array_equal(out, decode(data, "pcm_s16le"))


def test_streamed_pcm_resamples_like_the_whole():
    x = tone(1.0)
    data = to_int16(resample(x, 16000, 48000)).tobytes()
    decoder = Decoder("pcm_s16le", sample_rate=48000)
    pieces = [decoder.feed(data[i:i + 1920]) for i in range(0, len(data), 1920)]
    out = np.concatenate([*pieces, decoder.finish()])
    assert abs(len(out) - len(x)) <= 2 and similar(out, x) > 0.99


def test_streamed_pcm_ending_on_an_odd_byte_is_invalid():
    decoder = Decoder("auto")
    decoder.feed(b"\x01\x00\x02\x00\x03")
    with pytest.raises(Invalid, match="odd"):
        decoder.finish()


@pytest.mark.parametrize("container", ["ogg", "webm"])
def test_streamed_containers_return_only_new_samples(container):
    x = tone(3.0)
    data = encode_opus(x, container)
    decoder = Decoder()
    pieces = [decoder.feed(data[i:i + 700]) for i in range(0, len(data), 700)]
    out = np.concatenate([*pieces, decoder.finish()])
    whole = decode(data)
    assert len(out) == len(whole) and np.abs(out - whole).max() < 0.02
    assert sum(len(p) > 0 for p in pieces) >= 2  # audio arrives before the end


def test_streamed_container_one_byte_at_a_time():
    data = encode_opus(tone(0.5), "webm")
    decoder = Decoder("webm")
    out = np.concatenate([*(decoder.feed(data[i:i + 1]) for i in range(len(data))),
                          decoder.finish()])
    assert np.array_equal(out, decode(data))


def test_an_abandoned_container_stream_ends_its_thread():
    def decoding():
        return [t for t in threading.enumerate() if t.name == "memlane-audio-decode"]

    before = len(decoding())
    decoder = Decoder()
    decoder.feed(encode_opus(tone(0.5), "ogg")[:300])
    assert len(decoding()) == before + 1
    del decoder
    gc.collect()
    deadline = time.monotonic() + 5
    while len(decoding()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(decoding()) == before


def test_streamed_wav():
    x = tone(1.0)
    data = wav_bytes(to_int16(x), 16000)
    decoder = Decoder()
    pieces = [decoder.feed(data[i:i + 1000]) for i in range(0, len(data), 1000)]
    out = np.concatenate([*pieces, decoder.finish()])
    assert len(out) == len(x) and np.abs(out - x).max() < 1e-3


def test_a_stream_that_never_decodes_fails_only_at_finish():
    decoder = Decoder()
    assert len(decoder.feed(b"OggS" + b"\x07" * 100)) == 0
    assert len(decoder.feed(b"\x07" * 100)) == 0
    with pytest.raises(Invalid, match="could not decode audio"):
        decoder.finish()


def test_wer_normalises_case_and_punctuation():
    assert wer("Hello, World!", "hello world") == 0
    assert wer("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert wer("it's fine", "its fine.") == 0
