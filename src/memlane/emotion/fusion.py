"""Fusing the emotion read from the words with the one heard in the voice."""
from __future__ import annotations

from dataclasses import replace

from .labels import AROUSAL, LABELS
from .prosody import SPEECH_CONFIDENCE
from .reading import EmotionReading

AROUSAL_SWAY = 0.3  # how far the voice's arousal can move the text's confidence


def fuse(text: EmotionReading, speech: EmotionReading | None) -> EmotionReading:
    """One reading (source "fused") from a text reading and an optional speech reading.

    The rule:
    1. Without speech, the text reading unchanged (but marked "fused").
    2. Scores: the two score sets averaged, each weighted by its reading's confidence.
    3. Label: when both readings agree it is theirs; on a conflict the more confident
       reading's label wins (the text's on a tie). Prosody caps at 0.6, so the voice wins
       only over an unsure text reading.
    4. Confidence: when the text wins, its confidence times 1 + 0.3 x agreement x (voice
       confidence / 0.6), where agreement runs from +1 (the voice's arousal matches the
       arousal of the text's label) to -1 (one calm, the other agitated). Agreement lifts
       it (at most to 0.99), disagreement lowers it: an angry sentence said flatly counts as
       less sure, a sad one said flatly as more sure. When the voice wins, its own (low)
       confidence.
    5. The fused scores are rescaled so the label scores exactly that confidence and the
       rest keep their proportions.
    """
    if speech is None:
        return replace(text, scores=dict(text.scores), source="fused")
    weight = text.confidence + speech.confidence or 1.0
    scores = {label: (text.confidence * text.scores.get(label, 0.0)
                      + speech.confidence * speech.scores.get(label, 0.0)) / weight
              for label in LABELS}
    if speech.confidence > text.confidence:
        confidence, label = speech.confidence, speech.label
    else:
        confidence, label = swayed(text, speech), text.label
    return EmotionReading(label, confidence, _with_top(scores, label, confidence), "fused")


def swayed(text: EmotionReading, speech: EmotionReading) -> float:
    """The text's confidence moved by how well the voice's arousal fits its label."""
    span = max(AROUSAL.values()) - min(AROUSAL.values())
    agreement = max(-1.0, 1.0 - 2.0 * abs(AROUSAL[text.label] - speech.arousal) / span)
    factor = 1.0 + AROUSAL_SWAY * agreement * speech.confidence / SPEECH_CONFIDENCE
    return min(0.99, max(0.01, text.confidence * factor))


def _with_top(scores: dict[str, float], label: str, confidence: float) -> dict[str, float]:
    rest = sum(v for k, v in scores.items() if k != label) or 1.0
    return {k: confidence if k == label else v * (1 - confidence) / rest
            for k, v in scores.items()}
