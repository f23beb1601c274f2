"""Text emotion benchmark: the embedding classifier trained on the packaged sentences,
scored on the held-out set (accuracy, macro-F1, per-label precision/recall, confusion
matrix), with training time, classify latency and prosody latency. Prints one JSON object.

    .venv/bin/python bench/emotion.py
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from machine import percentile, state


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from memlane.emotion.classifier import LEARNERS, EmbeddingEmotion, softmax
    from memlane.emotion.evaluation import HOLDOUT_NAME, calibration, load_holdout, metrics
    from memlane.emotion.labels import TRAINING, read_examples
    from memlane.models.embedder import MiniLMEmbedder

    machine = state()
    embedder = MiniLMEmbedder(threads=2)
    embedder.warm_up()
    texts, labels = read_examples(TRAINING)
    held_texts, held_labels = load_holdout()

    t0 = time.perf_counter()
    train = embedder.embed(texts)
    t1 = time.perf_counter()
    classifier = EmbeddingEmotion().fit(train, labels)
    t2 = time.perf_counter()
    held = embedder.embed(held_texts)

    readings = classifier.classify(held)
    predicted = [r.label for r in readings]
    scores = metrics(held_labels, predicted)
    correct = [p == t for p, t in zip(predicted, held_labels)]
    confidences = [r.confidence for r in readings]

    out = {
        "benchmark": "emotion",
        "evaluation_set": {
            "name": HOLDOUT_NAME, "size": len(held_texts),
            "path": "tests/data/emotion_holdout.jsonl",
            "how_built": "written by us before the classifier existed, frozen, different topics "
                         "and wording from training, never used for training or model choice "
                         "(see memlane/emotion/evaluation.py)",
            "similarity_to_training": similarity(held, train)},
        "training": {"examples": len(texts), "embed_s": round(t1 - t0, 3),
                     "fit_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3),
                     "chosen": classifier.chosen, "temperature": classifier.temperature,
                     "cross_validation": classifier.report},
        "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
        "per_label": scores["per_label"],
        "confusion": {"labels": scores["labels"], "rows_true": scores["confusion"]},
        "calibration": {"ece": calibration(confidences, correct),
                        "mean_confidence": round(float(np.mean(confidences)), 3),
                        "mean_confidence_correct": mean_where(confidences, correct, True),
                        "mean_confidence_wrong": mean_where(confidences, correct, False)},
        "holdout_by_learner": by_learner(LEARNERS, classifier, train, held, labels,
                                         held_labels, softmax, metrics),
        "latency": {**classify_latency(embedder, classifier, held_texts),
                    "prosody_5s_p50_ms": prosody_latency()},
        "machine": {**machine, "loadavg_end": state()["loadavg"]},
    }
    print(json.dumps(out))
    return 0


def similarity(held: np.ndarray, train: np.ndarray) -> dict:
    nearest = (held @ train.T).max(axis=1)
    return {"mean_nearest_cosine": round(float(nearest.mean()), 3),
            "max_nearest_cosine": round(float(nearest.max()), 3),
            "over_0.9": int((nearest > 0.9).sum())}


def mean_where(values: list[float], mask: list[bool], want: bool) -> float | None:
    chosen = [v for v, m in zip(values, mask) if m == want]
    return round(float(np.mean(chosen)), 3) if chosen else None


def by_learner(learners, classifier, train, held, labels, held_labels, softmax, metrics
               ) -> dict:
    """Every learner refitted on all training data (for the record: the choice was made on
    cross-validation of the training data only)."""
    classes = classifier.classes
    y = np.array([classes.index(label) for label in labels])
    out = {}
    for name, make in learners.items():
        model = make().fit(train, y)
        predicted = [classes[i] for i in softmax(model.logits(held)).argmax(axis=1)]
        result = metrics(held_labels, predicted)
        out[name] = {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
    return out


def classify_latency(embedder, classifier, texts: list[str], n: int = 60) -> dict:
    whole, alone = [], []
    for text in texts[:n]:
        t0 = time.perf_counter()
        vector = embedder.embed([text])
        t1 = time.perf_counter()
        classifier.classify(vector)
        t2 = time.perf_counter()
        whole.append((t2 - t0) * 1000)
        alone.append((t2 - t1) * 1000)
    return {"sentences": len(whole), "embed_and_classify_p50_ms": percentile(whole, 0.5),
            "embed_and_classify_p95_ms": percentile(whole, 0.95),
            "classify_only_p50_ms": percentile(alone, 0.5)}


def prosody_latency(rounds: int = 20) -> float:
    from memlane.emotion.prosody import prosody
    t = np.arange(5 * 16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 160 * t) * (np.sin(2 * np.pi * 4 * t) > 0)
             ).astype(np.float32)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        prosody(audio, words=12)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 0.5)


if __name__ == "__main__":
    sys.exit(main())
