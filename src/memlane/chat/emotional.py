"""Emotion in a chat turn (SPEC D): the user message's reading and importance, and the
emotional-context section of the prompt with past moments of the same feeling."""
from __future__ import annotations

from ..config import Settings
from ..emotion.reading import EmotionReading
from ..store.base import Store
from . import prompts

MOMENTS = 3


def is_clear(reading: EmotionReading | None, settings: Settings) -> bool:
    return (reading is not None and reading.label != "neutral"
            and reading.confidence >= settings.emotion_prompt_confidence)


async def emotional_section(store: Store, settings: Settings, user_id: str,
                            reading: EmotionReading | None, current_id: str) -> str:
    """Empty unless the emotion is clear; then the feeling and up to three earlier, important
    moments of it (from any conversation of this user)."""
    if not is_clear(reading, settings):
        return ""
    earlier = await store.emotion_timeline(user_id, emotion=reading.label, limit=20)
    moments = [m for m in earlier if m.id != current_id and m.importance >= 0.5][-MOMENTS:]
    return prompts.emotional_context(
        reading.label, reading.confidence,
        [(m.created_at.strftime("%d %B %Y"), _short(m.content)) for m in moments])


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
