"""Text emotion with the real MiniLM embedder: accuracy on the held-out set stays above a
floor, and obvious sentences get the obvious label.

Measured (bench/emotion.py): accuracy 0.857, macro-F1 0.857 on the 210 held-out sentences;
the floors sit about 10 points under that."""
from __future__ import annotations

import pytest

from fakes import RegexNLP
from memlane.emotion import EmbeddingEmotion, Emotions
from memlane.emotion.evaluation import load_holdout, metrics
from memlane.models.runner import ModelRunner

pytestmark = pytest.mark.integration

ACCURACY_FLOOR = 0.75
MACRO_F1_FLOOR = 0.75


@pytest.fixture(scope="module")
def embedder(real_models):
    return real_models.embedder


@pytest.fixture(scope="module")
def classifier(real_models):
    return real_models.classifier  # trained once per session on train.jsonl


def test_holdout_accuracy_stays_above_the_floor(embedder, classifier):
    texts, labels = load_holdout()
    predicted = [r.label for r in classifier.classify(embedder.embed(texts))]
    scores = metrics(labels, predicted)
    assert scores["accuracy"] >= ACCURACY_FLOOR, scores
    assert scores["macro_f1"] >= MACRO_F1_FLOOR, scores
    assert min(p["recall"] for p in scores["per_label"].values()) >= 0.5, scores


def test_training_is_fast_and_chosen_by_cross_validation(classifier):
    assert classifier.fit_seconds < 2.0
    cv = {name: r["cv_accuracy"] for name, r in classifier.report.items()}
    assert cv[classifier.chosen] == max(cv.values()) and cv[classifier.chosen] > 0.8


@pytest.mark.parametrize("text, label", [
    ("We won the lottery and I can't stop laughing!", "joy"),
    ("My grandmother passed away last night.", "sadness"),
    ("I'm furious, they lied to me again.", "anger"),
    ("I'm really scared about the operation tomorrow.", "fear"),
    ("Wait, you're pregnant? I had no idea!", "surprise"),
    ("That toilet was absolutely disgusting.", "disgust"),
    ("The meeting is at 10am on Tuesday.", "neutral"),
])
def test_obvious_sentences(embedder, classifier, text, label):
    reading = classifier.classify(embedder.embed([text]))[0]
    assert reading.label == label, reading.as_dict()


@pytest.mark.anyio
async def test_service_with_the_real_embedder(embedder):
    emotions = Emotions(ModelRunner(embedder, RegexNLP()), EmbeddingEmotion())
    await emotions.warm_up()
    upset = await emotions.detect("I'm terrified, my mother is in hospital!")
    calm = await emotions.detect("ok, sounds good")
    assert upset.label == "fear" and upset.confidence > 0.6
    assert emotions.importance("I'm terrified, my mother is in hospital!", upset) >= 0.8
    assert emotions.importance("ok, sounds good", calm) < 0.45
