"""The real speech models on speech nobody here recorded: espeak-ng sentences and piper's own
voice through Whisper base, in every container we accept, whole and streamed."""
from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from memlane.models.weights import packaged_whisper
from memlane.voice.audio import Decoder, decode, resample, to_float32, to_int16
from memlane.voice.models import VoiceModels
from memlane.voice.transcriber import StreamingTranscriber
from voice_support import SENTENCES, encode_opus, espeak, frames, silence, wer, words

pytestmark = pytest.mark.integration



@pytest.fixture(scope="session")
def spoken(tmp_path_factory):
    """Each sentence as espeak-ng speaks it: 16 kHz mono WAV bytes."""
    directory = tmp_path_factory.mktemp("espeak")
    return [espeak(text, directory) for text in SENTENCES]


def padded(audio: np.ndarray, seconds: float = 0.3) -> np.ndarray:
    return np.concatenate([silence(seconds), audio, silence(seconds)])


def overall_wer(heard: list[str]) -> float:
    for text, said in zip(SENTENCES, heard):
        print(f"{wer(text, said):.2f}  {said}")
    errors = sum(wer(text, said) * len(words(text)) for text, said in zip(SENTENCES, heard))
    return errors / sum(len(words(text)) for text in SENTENCES)


def test_whisper_transcribes_espeak_sentences(whisper, spoken):
    assert overall_wer([whisper.transcribe(padded(decode(wav))).text for wav in spoken]) <= 0.10


def test_piper_round_trips_through_whisper(whisper, piper):
    heard = []
    for text in SENTENCES:
        speech = piper.synthesize(text)
        assert speech.dtype == np.int16 and len(speech) > piper.sample_rate
        heard.append(whisper.transcribe(padded(resample(to_float32(speech), 22050))).text)
    assert piper.sample_rate == 22050 and overall_wer(heard) <= 0.10


def test_piper_speaks_sentence_by_sentence(piper):
    pieces = list(piper.sentences(" ".join(SENTENCES[2:4])))
    assert len(pieces) == 2 and all(p.dtype == np.int16 for p in pieces)


def test_every_container_is_heard_alike(whisper, spoken):
    """Opus is lossy, so a word may differ; each container stays within 2 words of the
    sentence and the Opus streams decode to as many samples as the WAV, give or take."""
    samples = decode(spoken[0])
    containers = {"wav": spoken[0], "ogg": encode_opus(samples, "ogg"),
                  "webm": encode_opus(samples, "webm")}
    decoded = {name: decode(data) for name, data in containers.items()}
    heard = {name: whisper.transcribe(padded(audio)).text for name, audio in decoded.items()}
    reference = words(SENTENCES[0])
    for name, text in heard.items():
        assert wer(SENTENCES[0], text) * len(reference) <= 2, heard
        assert abs(len(decoded[name]) - len(samples)) < 0.05 * len(samples), name


def test_silero_finds_the_speech(silero, spoken):
    speech = decode(spoken[2])
    loud = np.flatnonzero(np.abs(speech) > 0.01)
    audio = np.concatenate([silence(1.0), speech, silence(1.0)])
    regions = silero.speech(audio)
    assert regions[0][0] == pytest.approx(1.0 + loud[0] / 16000, abs=0.15)
    assert regions[-1][1] == pytest.approx(1.0 + loud[-1] / 16000, abs=0.15)
    assert silero.speech(silence(2.0)) == []


def test_streaming_two_sentences_over_pcm_frames(whisper, silero, speech_settings, spoken):
    audio = np.concatenate([decode(spoken[0]), silence(1.5), decode(spoken[3]), silence(1.0)])
    voice = VoiceModels(whisper, silero, None)
    transcriber = StreamingTranscriber(
        voice, silence_ms=speech_settings.utterance_silence_ms,
        partial_every_s=speech_settings.partial_every_s,
        max_utterance_s=speech_settings.max_utterance_s)
    decoder = Decoder("pcm_s16le")

    async def stream():
        events = []
        for frame in frames(audio):
            events += await transcriber.feed(decoder.feed(to_int16(frame).tobytes()))
        return events + await transcriber.feed(decoder.finish()) + await transcriber.finish()

    events = asyncio.run(stream())
    finals = [e for e in events if e.final]
    assert any(not e.final for e in events)
    assert [e.utterance for e in finals] == [0, 1]
    assert wer(SENTENCES[0], finals[0].text) <= 0.15 and wer(SENTENCES[3], finals[1].text) <= 0.15
    assert finals[1].start_s > finals[0].end_s + 1.0 and finals[0].audio is not None


def test_whisper_runs_faster_than_real_time(whisper, spoken):
    audio = np.concatenate([decode(spoken[0]), silence(0.5), decode(spoken[2])])
    began = time.perf_counter()
    whisper.transcribe(audio)
    assert (time.perf_counter() - began) / (len(audio) / 16000) < 0.5


def test_whisper_is_assembled_once(tmp_path):
    first = packaged_whisper(tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"} <= set(stamps)
    assert packaged_whisper(tmp_path) == first == tmp_path / "whisper-base"
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == stamps


def test_a_short_clip_is_heard_alike_in_a_short_window_and_sooner(whisper, spoken):
    """Whisper encodes a short clip in a window of its length plus silence (at least
    10 s), not the whole 30 s one it pads to."""
    from memlane.models.speech import WhisperSTT
    full = WhisperSTT(whisper.models_dir, whisper.threads, min_window_s=30.0)
    audio = decode(spoken[2])  # 4-5 s
    seconds: dict[str, list[float]] = {"short": [], "full": []}
    for _ in range(3):
        for kind, stt in (("short", whisper), ("full", full)):
            began = time.perf_counter()
            heard = stt.transcribe(audio).text
            seconds[kind].append(time.perf_counter() - began)
            assert wer(SENTENCES[2], heard) <= 0.1, (kind, heard)
    assert sorted(seconds["short"])[1] < 0.8 * sorted(seconds["full"])[1], seconds
