"""Evaluation of the text emotion classifier on a held-out set, and its metrics.

No labelled emotion sentence set ships inside a PyPI package that we could find (checked:
martextemotiondetection, emolexgram, emotion-model, esanalyzer, emopoint, text-emotion,
emotion-data, krezy, nade, emotionclassifier, iris-emotion, human-ai-impact-bench,
multi-emotion, emotionx: they carry lexicons, model weights or code, not labelled sentences),
and nothing may be fetched at run time. So the held-out set is ours, built to be as
independent of the training set as one author can make it:

- written in one sitting *before* the classifier existed, frozen, and never edited after
  any model was run on it; the training set (src/memlane/emotion/data/train.jsonl) was
  written after it, separately;
- 30 sentences per label (210), on different topics and in a different register from
  training: travel, hobbies, neighbours, gadgets, sport, public services and errands in
  the held-out set; work, family, pets, health and relationships in training; more slang,
  lower case, questions and longer clauses; no sentence appears in both;
- never used for training, for choosing the learner or for setting its temperature
  (all three use cross-validation on the training set only).

Its limit: one author wrote both sets, so shared habits of phrasing flatter the scores.
Treat the numbers as a regression floor, not as accuracy on real users' messages.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .labels import LABELS, read_examples

HOLDOUT = Path(__file__).resolve().parents[3] / "tests" / "data" / "emotion_holdout.jsonl"
HOLDOUT_NAME = "memlane emotion hold-out v1 (own, independently phrased)"


def load_holdout(path: Path = HOLDOUT) -> tuple[list[str], list[str]]:
    """The held-out texts and labels (a file of the repository, not of the package)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"emotion hold-out set not found at {path} (it lives in the "
                                "repository's tests/data/, not in the installed package)")
    return read_examples(path)


def metrics(true: list[str], predicted: list[str], labels=LABELS) -> dict:
    """Accuracy, macro-F1, per-label precision/recall/F1 and the confusion matrix (rows:
    true label, columns: predicted, both in ``labels`` order)."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true, predicted):
        confusion[index[t], index[p]] += 1
    hits = np.diag(confusion)
    precision = hits / np.maximum(confusion.sum(axis=0), 1)
    recall = hits / np.maximum(confusion.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    per_label = {label: {"precision": round(float(precision[i]), 3),
                         "recall": round(float(recall[i]), 3), "f1": round(float(f1[i]), 3),
                         "support": int(confusion[i].sum())}
                 for i, label in enumerate(labels)}
    return {"accuracy": round(float(hits.sum() / max(len(true), 1)), 4),
            "macro_f1": round(float(f1.mean()), 4), "per_label": per_label,
            "labels": list(labels), "confusion": confusion.tolist()}


def calibration(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error: the mean gap between confidence and accuracy, by bin."""
    conf, hit = np.asarray(confidences), np.asarray(correct, dtype=float)
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    gaps = [abs(conf[edges == b].mean() - hit[edges == b].mean()) * (edges == b).sum()
            for b in range(bins) if (edges == b).any()]
    return round(float(sum(gaps) / max(len(conf), 1)), 4)
