"""Emotion (SPEC D) with the fakes: the classifier, the service, fusion, importance and
prosody on synthetic signals."""
from __future__ import annotations

import time

import numpy as np
import pytest

import memlane.emotion as emotion
from fakes import HashEmbedder, RegexNLP
from memlane.emotion import (
    LABELS,
    EmbeddingEmotion,
    EmotionReading,
    Emotions,
    fuse,
    importance,
    prosody,
    speech_emotion,
)
from memlane.emotion.evaluation import calibration, load_holdout, metrics
from memlane.emotion.labels import HIGH, LOW, TRAINING, read_examples
from memlane.models.runner import ModelRunner

SR = 16000


def reading(label: str, confidence: float, source: str = "text") -> EmotionReading:
    rest = (1 - confidence) / (len(LABELS) - 1)
    return EmotionReading.from_scores({k: confidence if k == label else rest for k in LABELS},
                                      source)


def clusters(per_label: int = 20, dim: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(LABELS), dim))
    x = np.repeat(centres, per_label, axis=0) + rng.normal(scale=0.4, size=(
        len(LABELS) * per_label, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), [label for label in LABELS for _ in range(per_label)]


def voice(f0: float, amplitude: float, glide: float = 0.0, seconds: float = 5.0,
          syllables: float = 4.0) -> np.ndarray:
    """A buzzy tone in syllable-like bursts; ``glide`` semitones of slow pitch movement,
    and louder/softer syllables when it moves."""
    t = np.arange(int(seconds * SR)) / SR
    f = f0 * 2 ** (glide * np.sin(2 * np.pi * 0.7 * t) / 12)
    phase = 2 * np.pi * np.cumsum(f) / SR
    buzz = sum(np.sin(k * phase) / k for k in range(1, 6))
    bursts = (np.sin(2 * np.pi * syllables * t) > -0.3).astype(float)
    loudness = 1 + (0.8 * np.sin(2 * np.pi * 1.3 * t) if glide else 0.0)
    return (0.3 * amplitude * buzz * bursts * loudness).astype(np.float32)


# --- data and readings ---------------------------------------------------------------

def test_public_api_is_exported():
    assert set(emotion.__all__) == {"AROUSAL", "LABELS", "EmbeddingEmotion", "EmotionReading",
                                    "Emotions", "Prosody", "fuse", "importance", "prosody",
                                    "speech_emotion"}


def test_training_and_holdout_sets_are_balanced_and_disjoint():
    texts, labels = read_examples(TRAINING)
    held, held_labels = load_holdout()
    assert {labels.count(label) for label in LABELS} == {70}
    assert {held_labels.count(label) for label in LABELS} == {30}
    assert not {t.lower() for t in texts} & {t.lower() for t in held}


def test_unknown_label_in_a_data_file_is_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "hm", "label": "boredom"}\n')
    with pytest.raises(ValueError, match="boredom"):
        read_examples(path)


def test_reading_from_scores_normalises_and_picks_the_top():
    r = EmotionReading.from_scores({"joy": 2.0, "fear": 1.0, "neutral": 1.0})
    assert r.label == "joy" and r.confidence == pytest.approx(0.5)
    assert set(r.scores) == set(LABELS) and sum(r.scores.values()) == pytest.approx(1.0)
    assert r.as_dict()["source"] == "text"
    assert reading("anger", 0.9).arousal > reading("sadness", 0.9).arousal


def test_metrics_confusion_rows_are_true_labels():
    m = metrics(["joy", "joy", "fear"], ["joy", "fear", "fear"])
    i, j = LABELS.index("joy"), LABELS.index("fear")
    assert m["confusion"][i][j] == 1 and m["confusion"][j][j] == 1
    assert m["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["per_label"]["fear"]["precision"] == 0.5
    assert calibration([0.9, 0.9], [True, False]) == pytest.approx(0.4)


# --- classifier ----------------------------------------------------------------------

def test_classifier_cross_validates_every_learner_and_keeps_the_best():
    x, y = clusters()
    clf = EmbeddingEmotion().fit(x, y)
    assert set(clf.report) == {"prototypes", "prototypes-k3", "logistic"}
    best = max(r["cv_accuracy"] for r in clf.report.values())
    assert clf.report[clf.chosen]["cv_accuracy"] == best
    readings = clf.classify(x)
    assert np.mean([r.label == t for r, t in zip(readings, y)]) > 0.95
    for r in readings[:5]:
        assert 0 < r.confidence <= 1 and sum(r.scores.values()) == pytest.approx(1.0)
        assert r.confidence == pytest.approx(max(r.scores.values()))


@pytest.mark.parametrize("method", ["prototypes", "prototypes-k3", "logistic"])
def test_each_learner_alone_separates_clusters(method):
    x, y = clusters(seed=1)
    clf = EmbeddingEmotion(method).fit(x, y)
    assert list(clf.report) == [method] and clf.chosen == method
    test_x, test_y = clusters(per_label=5, seed=1)
    assert np.mean([r.label == t for r, t in zip(clf.classify(test_x), test_y)]) > 0.9


def test_classifier_refuses_unknown_method_and_use_before_fit():
    with pytest.raises(ValueError, match="unknown method"):
        EmbeddingEmotion("svm")
    with pytest.raises(RuntimeError, match="not fitted"):
        EmbeddingEmotion().classify(np.zeros((1, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="two training examples"):
        EmbeddingEmotion().fit(np.eye(3, dtype=np.float32), ["joy", "joy", "fear"])


def test_labels_missing_from_training_score_zero():
    x, y = clusters()
    keep = [i for i, label in enumerate(y) if label in ("joy", "fear")]
    clf = EmbeddingEmotion("prototypes").fit(x[keep], [y[i] for i in keep])
    r = clf.classify(x[:1])[0]
    assert r.label in ("joy", "fear") and r.scores["anger"] == 0.0


# --- service -------------------------------------------------------------------------

@pytest.fixture
async def emotions():
    service = Emotions(ModelRunner(HashEmbedder(), RegexNLP()), EmbeddingEmotion())
    await service.warm_up()
    return service


@pytest.mark.anyio
async def test_warm_up_trains_on_the_packaged_sentences(emotions):
    info = emotions.info()
    assert info["loaded"] and info["warm_up"]["examples"] == 490
    assert info["method"] in info["cross_validation"]
    await emotions.warm_up()  # a second warm-up does not retrain
    assert emotions.info()["warm_up"] == info["warm_up"]


@pytest.mark.anyio
@pytest.mark.parametrize("text, label", [
    ("I'm terrified and scared", "fear"),
    ("Ugh, gross, the smell was disgusting", "disgust"),
    ("My dog died and I miss him", "sadness"),
])
async def test_detect_reads_obvious_sentences_even_with_the_hash_embedder(emotions, text,
                                                                           label):
    r = await emotions.detect(text)
    assert r.label == label and r.source == "text"


@pytest.mark.anyio
async def test_detect_vectors_matches_detect(emotions):
    text = "I'm so angry at my landlord"
    vectors = await emotions.models.embed([text])
    assert emotions.detect_vectors(vectors)[0].label == (await emotions.detect(text)).label


@pytest.mark.anyio
async def test_detect_warms_up_on_first_use():
    service = Emotions(ModelRunner(HashEmbedder(), RegexNLP()), EmbeddingEmotion())
    assert (await service.detect("hello there")).label in LABELS
    assert service.info()["loaded"]


# --- fusion --------------------------------------------------------------------------

def test_fuse_without_speech_keeps_the_text_reading():
    text = reading("joy", 0.8)
    fused = fuse(text, None)
    assert (fused.label, fused.confidence, fused.source) == ("joy", 0.8, "fused")
    assert text.source == "text"


def test_fuse_on_conflict_the_more_confident_reading_wins():
    calm_sad = speech_emotion(prosody(voice(100, 0.02)))
    assert calm_sad.source == "speech" and calm_sad.confidence <= 0.6
    assert fuse(reading("joy", 0.9), calm_sad).label == "joy"
    unsure = reading("surprise", calm_sad.confidence - 0.1)
    fused = fuse(unsure, calm_sad)
    assert fused.label == calm_sad.label and fused.confidence == pytest.approx(
        calm_sad.confidence)


def test_fuse_voice_arousal_lifts_or_lowers_the_text_confidence():
    agitated = speech_emotion(prosody(voice(260, 1.0, glide=6, syllables=6)))
    flat = speech_emotion(prosody(voice(100, 0.02)))
    angry, sad = reading("anger", 0.7), reading("sadness", 0.7)
    assert fuse(angry, agitated).confidence > angry.confidence > fuse(angry, flat).confidence
    assert fuse(sad, flat).confidence > sad.confidence > fuse(sad, agitated).confidence
    for fused in (fuse(angry, agitated), fuse(sad, flat)):
        assert fused.source == "fused" and fused.label in ("anger", "sadness")
        assert sum(fused.scores.values()) == pytest.approx(1.0)
        assert fused.scores[fused.label] == pytest.approx(fused.confidence)


# --- importance ----------------------------------------------------------------------

def test_importance_orders_messages_by_how_much_they_matter():
    chit_chat = importance("ok, sounds good", reading("neutral", 0.9))
    plain = importance("I had pasta for lunch with my sister today", reading("neutral", 0.8))
    question = importance("Can you remind me when my flight to Rome leaves?",
                          reading("neutral", 0.8))
    upset = importance("I'm terrified, my mother is in hospital!", reading("fear", 0.85))
    assert 0.2 <= chit_chat <= 0.4
    assert chit_chat < plain < question < upset
    assert upset >= 0.8


def test_importance_stays_in_range():
    loud = "I I I my my my!!!! " * 50 + "?"
    assert importance(loud, reading("anger", 1.0)) == 1.0
    assert 0.0 <= importance("", None) <= 0.3


# --- prosody -------------------------------------------------------------------------

def test_prosody_measures_pitch_energy_and_rate():
    p = prosody(voice(150, 0.5), words=12)
    assert p.pitch_hz == pytest.approx(150, rel=0.03)
    assert p.pitch_var < 0.5
    assert 0.3 < p.voiced_ratio <= 1.0
    assert -40 < p.energy_db < -5
    assert p.speaking_rate == pytest.approx(12 / 5, rel=0.1)
    glide = prosody(voice(150, 0.5, glide=4))
    assert glide.pitch_var > 2 and glide.energy_var > p.energy_var


def test_loud_high_varied_voice_reads_more_aroused_than_quiet_flat_one():
    excited = speech_emotion(prosody(voice(260, 1.0, glide=6, syllables=6), words=20))
    subdued = speech_emotion(prosody(voice(100, 0.03, syllables=2), words=6))
    assert excited.arousal > subdued.arousal
    assert excited.label in HIGH and subdued.label in LOW
    assert excited.confidence <= 0.6 and subdued.confidence <= 0.6


def test_voice_like_its_baseline_is_neutral_and_unsure():
    same = prosody(voice(180, 0.4, glide=2), words=10)
    r = speech_emotion(same, baseline=same)
    assert r.label == "neutral" and r.confidence < 0.3


def test_prosody_of_silence_noise_and_integer_pcm():
    silent = prosody(np.zeros(SR, dtype=np.float32))
    assert silent.voiced_ratio == 0 and speech_emotion(silent).label == "neutral"
    assert prosody(np.zeros(10, dtype=np.float32)).pitch_hz == 0
    noise = np.random.default_rng(0).normal(0, 0.1, 3 * SR).astype(np.float32)
    assert prosody(noise).voiced_ratio < 0.1
    tone = voice(200, 0.5)
    pcm = (tone * 32767).astype(np.int16)
    assert prosody(pcm).pitch_hz == pytest.approx(prosody(tone).pitch_hz, rel=0.01)


def test_prosody_is_fast():
    audio = voice(180, 0.5, glide=3)
    prosody(audio)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        prosody(audio, words=12)
        times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.05  # ~5 ms idle for 5 s of audio; slack for a busy machine
