"""One emotion reading: a label, its confidence and the score of every label."""
from __future__ import annotations

from dataclasses import dataclass

from .labels import AROUSAL, LABELS


@dataclass
class EmotionReading:
    label: str
    confidence: float
    scores: dict[str, float]
    source: str = "text"  # text | speech | fused

    @classmethod
    def from_scores(cls, scores: dict[str, float], source: str = "text") -> EmotionReading:
        """The top label of ``scores`` (normalised to sum to 1) with its probability."""
        total = sum(scores.values()) or 1.0
        scores = {label: float(scores.get(label, 0.0)) / total for label in LABELS}
        label = max(scores, key=scores.__getitem__)
        return cls(label, scores[label], scores, source)

    @property
    def arousal(self) -> float:
        """Expected arousal under the scores, 0 (calm) to 1 (agitated)."""
        return sum(AROUSAL[label] * p for label, p in self.scores.items())

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 3),
                "scores": {k: round(v, 3) for k, v in self.scores.items()},
                "source": self.source}
