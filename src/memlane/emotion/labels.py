"""The seven emotion labels, their arousal, and labelled example files."""
from __future__ import annotations

import json
from pathlib import Path

LABELS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")

# How activated each emotion sounds, 0 (calm) to 1 (agitated): high for anger, fear,
# surprise and joy, low for sadness and neutral, disgust in the middle.
AROUSAL = {"anger": 0.9, "fear": 0.8, "surprise": 0.8, "joy": 0.7, "disgust": 0.5,
           "neutral": 0.3, "sadness": 0.15}
HIGH = ("anger", "fear", "joy", "surprise")
LOW = ("sadness", "neutral")

TRAINING = Path(__file__).parent / "data" / "train.jsonl"


def read_examples(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a JSON-lines file of {"text", "label"} objects."""
    texts, labels = [], []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["label"] not in LABELS:
            raise ValueError(f"{path}:{number}: unknown label {row['label']!r}")
        texts.append(row["text"])
        labels.append(row["label"])
    return texts, labels
