"""Streaming transcription over the tone codec fakes: partials, finals, cuts, flushing;
and VoiceModels warming up with a text-to-speech that may be unavailable."""
import sys

import numpy as np
import pytest

import fakes_voice  # noqa: F401  (registers the speech fakes)
from memlane.errors import Unavailable
from memlane.models import create
from memlane.models.registry import names
from memlane.models.speech import window_frames
from memlane.models.tts import PiperTTS, TextToSpeech
from memlane.voice.audio import decode, to_float32, wav_bytes
from memlane.voice.models import VoiceModels
from memlane.voice.transcriber import StreamingTranscriber
from voice_support import frames, silence

pytestmark = pytest.mark.anyio

LONG = "The quick brown fox jumps over the lazy dog while the cat watches from the fence."
OPTIONS = {"silence_ms": 500, "partial_every_s": 0.5, "max_utterance_s": 30.0}


@pytest.fixture
def voice(fake_settings):
    return VoiceModels(create("stt", "tone", fake_settings), create("vad", "energy", fake_settings),
                       create("tts", "tone", fake_settings))


def speak(voice, text):
    return to_float32(voice.tts.synthesize(text))


async def run(transcriber, audio, finish=True):
    events = []
    for frame in frames(audio):
        events += await transcriber.feed(frame)
    if finish:
        events += await transcriber.finish()
    return events


def finals(events):
    return [e for e in events if e.final]


def test_the_tone_codec_round_trips(voice):
    text = "Hello there. How are you?"
    audio = speak(voice, text)
    assert voice.stt.transcribe(audio).text == text
    assert voice.stt.transcribe(decode(wav_bytes(voice.tts.synthesize(text), 16000))).text == text
    assert voice.stt.transcribe(audio[100:-100]).text == text  # partial characters at edges
    assert voice.vad.speech(np.concatenate([silence(1), audio, silence(1)])) == [
        (1.0, pytest.approx(1.0 + len(audio) / 16000))]


async def test_partials_then_a_final(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    audio = np.concatenate([silence(0.5), speak(voice, LONG), silence(1.0)])
    events = await run(transcriber, audio, finish=False)
    partials = [e for e in events if not e.final]
    assert len(partials) >= 2 and events[-1].final and len(finals(events)) == 1
    assert all(LONG.startswith(p.text[:-1]) and p.audio is None for p in partials)
    final = events[-1]
    assert final.text == LONG and final.utterance == 0 and final.audio is not None
    assert final.start_s == pytest.approx(0.5, abs=0.01)
    assert final.end_s == pytest.approx(0.5 + len(LONG) * 0.02, abs=0.01)
    assert await transcriber.finish() == []


async def test_two_utterances_separated_by_silence(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    audio = np.concatenate([speak(voice, "First one here. Still first."), silence(1.0),
                            speak(voice, "Second one."), silence(1.0)])
    events = finals(await run(transcriber, audio, finish=False))
    assert [(e.text, e.utterance) for e in events] == [
        ("First one here. Still first.", 0), ("Second one.", 1)]
    assert events[1].start_s > events[0].end_s + 0.9


async def test_one_large_piece_gives_every_utterance(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    audio = np.concatenate([speak(voice, "One."), silence(1.0), speak(voice, "Two."),
                            silence(1.0), speak(voice, "Three.")])
    events = await transcriber.feed(audio) + await transcriber.finish()
    assert [e.text for e in finals(events)] == ["One.", "Two.", "Three."]


async def test_finish_flushes_speech_in_progress(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    events = await run(transcriber, speak(voice, "No silence after this."), finish=False)
    assert finals(events) == []
    flushed = await transcriber.finish()
    assert [(e.text, e.final) for e in flushed] == [("No silence after this.", True)]


async def test_leading_silence_is_dropped_but_time_is_kept(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    await run(transcriber, silence(5.0), finish=False)
    assert transcriber.buffered_s <= 0.3 + 0.25
    events = await run(transcriber, speak(voice, "Late."))
    assert events[-1].text == "Late." and events[-1].start_s == pytest.approx(5.0, abs=0.01)


async def test_long_speech_is_cut_at_max_utterance(voice):
    transcriber = StreamingTranscriber(voice, **{**OPTIONS, "max_utterance_s": 0.5})
    events = finals(await run(transcriber, speak(voice, LONG)))
    assert len(events) >= 3
    assert " ".join(e.text for e in events).replace(" ", "") == LONG.replace(" ", "")
    assert [e.utterance for e in events] == list(range(len(events)))


async def test_no_partials_when_partial_every_is_infinite(voice):
    transcriber = StreamingTranscriber(voice, **{**OPTIONS, "partial_every_s": float("inf")})
    events = await run(transcriber, np.concatenate([speak(voice, LONG), silence(1.0)]))
    assert [e.final for e in events] == [True]


async def test_empty_transcripts_are_not_emitted(voice):
    transcriber = StreamingTranscriber(voice, **OPTIONS)
    hum = np.where(np.arange(16000) % 2, -0.02, 0.02).astype(np.float32)  # reads as ""
    events = await run(transcriber, np.concatenate([hum, silence(1.0), speak(voice, "Hi.")]))
    assert [(e.text, e.utterance) for e in events] == [("Hi.", 0)]


class BrokenTTS(TextToSpeech):
    name = "broken"

    def synthesize(self, text):
        raise Unavailable("text-to-speech needs the 'voice' extra")


async def test_warm_up_records_load_times(voice):
    await voice.warm_up()
    assert set(voice.warm) == {"stt", "vad", "tts"} and voice.has_tts
    assert all(part["loaded"] for part in voice.info().values())
    assert len(await voice.synthesize("Hi.")) == 3 * 320


async def test_an_unavailable_tts_does_not_fail_start(voice):
    models = VoiceModels(voice.stt, voice.vad, BrokenTTS())
    await models.warm_up()
    assert not models.has_tts and set(models.warm) == {"stt", "vad"}
    assert models.info()["tts"] == {"name": "broken", "sample_rate": 16000, "loaded": False,
                                    "error": "text-to-speech needs the 'voice' extra"}
    with pytest.raises(Unavailable, match="'voice' extra"):
        await models.synthesize("Hi.")


async def test_an_unavailable_stt_fails_start(voice):
    class Deaf(type(voice.stt)):
        def warm_up(self):
            raise Unavailable("no ears")

    with pytest.raises(Unavailable, match="no ears"):
        await VoiceModels(Deaf(), voice.vad, None).warm_up()


async def test_tts_none(fake_settings, voice):
    models = VoiceModels(voice.stt, voice.vad, create("tts", "none", fake_settings))
    await models.warm_up()
    assert not models.has_tts
    with pytest.raises(Unavailable, match="tts='none'"):
        await models.synthesize("Hi.")


def test_piper_without_its_extra_says_which_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(Unavailable, match=r"pip install 'memlane\[voice\]'"):
        PiperTTS().warm_up()


def test_built_ins_and_fakes_share_the_registry():
    assert {"whisper", "tone"} <= set(names("stt"))
    assert {"silero", "energy"} <= set(names("vad"))
    assert {"piper", "none", "tone"} <= set(names("tts"))


def test_whisper_window_is_the_clip_and_a_margin_within_bounds():
    assert window_frames(2.0, 10.0) == 1000
    assert window_frames(9.0, 10.0) == 1200
    assert window_frames(29.0, 10.0) == window_frames(300.0, 10.0) == 3000
    assert window_frames(2.0, 30.0) == 3000
