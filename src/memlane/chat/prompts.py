"""Prompt texts. Fixed parts come first so prompts share a prefix (KV cache reuse)."""
from __future__ import annotations

DONT_KNOW = "I don't know: it is not mentioned in my memories."

ASK_SYSTEM = (
    "You answer questions using only the user's memories listed below. Each memory has a "
    "number in brackets, the date it was said, and sometimes who said it. Reply with the "
    "shortest possible answer: a few words, a name, a date or a short comma-separated list, "
    "using the memories' own words; no full sentence, no explanation. Then cite the "
    "memories you used by number, like [2]. A memory's date is when it was said: turn "
    "relative times into dates from it (\"last week\" in a memory of 9 May 2023 -> the "
    "week before 9 May 2023). Answer only about the person asked about; what someone else "
    "said or did is not an answer. If the memories do not contain the answer, reply "
    f"exactly: {DONT_KNOW}")

GROUNDING = (
    "When you use a memory, repeat what it says (the number, name or date itself), then "
    "its number in brackets; the bracket never replaces the fact. Never invent memories: if "
    "the user asks about themselves and the memories do not say, reply that you don't "
    "know. When memories disagree, the latest one holds.")

CHAT_SYSTEM = ("You are a helpful assistant with a long-term memory of the user. Use what "
               f"you remember when it helps. {GROUNDING} Be brief and warm.")

VOICE_SYSTEM = (
    "You are a voice assistant with a long-term memory of the user. Your words are spoken "
    "aloud: answer in one or two short sentences of plain speech, no lists, no markdown. "
    "Use what you remember when it helps and never invent memories; if the user asks about "
    "themselves and the memories do not say, reply that you don't know.")

MEMORY_NOTE = f"What you remember about the user follows; use it when it helps. {GROUNDING}"


def memory_section(rendered: str, today: str) -> str:
    if not rendered:
        return f"Today is {today}. You remember nothing relevant to this."
    return f"Today is {today}.\nMemories:\n{rendered}"


def ask_user(question: str) -> str:
    return f"Question: {question}\nShort answer:"


def emotional_context(label: str, confidence: float, moments: list[tuple[str, str]]) -> str:
    """The section a chat prompt gains when the user's emotion is clear (SPEC D)."""
    lines = [f"Emotional context: the user's message expresses {label} (confidence "
             f"{confidence:.2f}). Acknowledge the feeling briefly and kindly, then help."]
    if moments:
        lines.append(f"Earlier moments when they felt {label}:")
        lines += [f"- {when}: {text}" for when, text in moments]
    return "\n".join(lines)


def chat_frame(base: str, persona: str, summary: str) -> str:
    """The part of a chat's system prompt that stays the same from turn to turn."""
    parts = [base]
    if persona:
        parts.append(f"Persona:\n{persona}")
    if summary:
        parts.append(f"Summary of the earlier conversation:\n{summary}")
    return "\n\n".join(parts)


def chat_notes(memories: str, entities: str, today: str, emotional: str = "") -> str:
    """What this turn adds: the memories, the names in them, the user's feeling."""
    parts = [memory_section(memories, today)]
    if entities:
        parts.append(f"People and things the user mentioned: {entities}")
    if emotional:
        parts.append(emotional)
    return "\n\n".join(parts)
