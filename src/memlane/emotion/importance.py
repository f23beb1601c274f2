"""How much a message is worth remembering (SPEC D): emotional intensity first, then
length, questions, exclamations and talk about oneself."""
from __future__ import annotations

import math
import re

from .reading import EmotionReading

FIRST_PERSON = {"i", "i'm", "im", "i've", "i'd", "i'll", "me", "my", "mine", "myself",
                "we", "we're", "us", "our", "ours", "ourselves"}
BASE = 0.25
WEIGHTS = {"intensity": 0.45, "length": 0.12, "question": 0.06, "exclamation": 0.1,
           "personal": 0.12}


def importance(text: str, reading: EmotionReading | None) -> float:
    """A score in [0, 1]: short neutral chit-chat lands near 0.3, an intense personal
    message near 0.8 or above."""
    parts = signals(text, reading)
    return round(min(1.0, BASE + sum(WEIGHTS[k] * v for k, v in parts.items())), 3)


def signals(text: str, reading: EmotionReading | None) -> dict[str, float]:
    """Each signal in [0, 1]."""
    words = re.findall(r"[\w']+", text.lower().replace("\u2019", "'"))
    return {"intensity": intensity(reading),
            "length": min(1.0, math.log1p(len(words)) / math.log1p(40)),
            "question": 1.0 if "?" in text else 0.0,
            "exclamation": min(1.0, text.count("!") / 2),
            "personal": min(1.0, sum(w in FIRST_PERSON for w in words) / 3)}


def intensity(reading: EmotionReading | None) -> float:
    """The confidence of a non-neutral reading, 0 for neutral or none."""
    if reading is None or reading.label == "neutral":
        return 0.0
    return reading.confidence
