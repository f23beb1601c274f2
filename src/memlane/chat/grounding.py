"""Replies to personal questions come from memories, never from nothing (issue 12).

A personal question ("what is my…", "where do I…", "did I…") is answered only when a
memory or the conversation supports it: with neither, the reply is "I don't know" without
asking the LLM; otherwise the reply is checked whole before it is sent. A value the memories and
the user's own words never held (a number, name, date, code), or a citation marker
standing in for a value ("ends in [2]"), makes the reply fall back to the memory itself,
quoted, or to "I don't know" when no memory matches the question."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

from ..memory.told import is_question, stems, ungrounded
from ..models.llm import Delta, Usage
from .events import ContextItem
from .prompts import DONT_KNOW

_SELF = re.compile(r"\b(i|i'm|i've|i'd|me|my|mine|myself|we|our|ours|us)\b", re.I)
_ADVICE = re.compile(r"\b(should|could|can|shall|would|might)\s+(i|we)\b|"
                     r"\bhow (do|can|should|would|could) (i|we)\b|"
                     r"\b(help|suggest|recommend|advise|advice|ideas?|tips?|explain)\b", re.I)
_FACT = re.compile(r"\b(what|what's|whats|when|where|who|whom|whose|which|how many|how much|"
                   r"how old|how long|remind me|tell me (?:about )?my|do you (know|remember)|"
                   r"did i (say|tell|mention))\b", re.I)
_YES_NO = re.compile(r"^\W*(do|did|does|am|have|has|had|was|were|is|are)\s+(i|my|we|our)\b",
                     re.I)
_REF = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_MARKER_AS_VALUE = re.compile(
    r"(?:\b(?:is|are|was|were|in|at|on|to|of|by|from|for|with|named|called|be)|:)\s*"
    r"['\"“]?\[\d+\]", re.I)
_DECLINES = re.compile(r"\b(i don'?t know|not (?:mentioned|available|in (?:the|my) memor)|"
                       r"as an ai|language model|i (?:don'?t|do not) have (?:access|any "
                       r"(?:information|record|memor))|i'?m not (?:sure|aware)|"
                       r"i (?:can'?t|cannot) (?:know|recall|access))", re.I)
_CITED = re.compile(r"\[(\d+)\]")
_CONTENT = re.compile(r"[a-z0-9]{3,}")
_STOP = frozenset("what whats when where who whom whose which how many much old long does did "
                  "the and are was were have has had you your about tell remind know "
                  "remember mine myself".split())


def personal_question(text: str) -> bool:
    """A question after a fact about the asker, not advice or a task."""
    if not is_question(text) or not _SELF.search(text) or _ADVICE.search(text):
        return False
    short = text.strip().endswith("?") and len(text.split()) <= 6  # "My passport number?"
    return bool(_FACT.search(text) or _YES_NO.search(text) or short)


async def guarded(deltas: AsyncIterator[Delta], question: str, items: Sequence[ContextItem],
                  said: Sequence[str] = ()) -> AsyncIterator[Delta]:
    """The LLM's deltas, untouched unless ``question`` is personal; then one checked
    reply (``said``: the conversation so far, which may also ground it)."""
    if not personal_question(question):
        async for delta in deltas:
            yield delta
        return
    if not items and not any(s.strip() and s != question for s in said):
        await deltas.aclose()
        yield Delta(DONT_KNOW)
        yield Delta(finish_reason="stop", usage=Usage())
        return
    parts, finish, usage = [], "stop", Usage()
    async for delta in deltas:
        parts.append(delta.text)
        if delta.finish_reason:
            finish, usage = delta.finish_reason, delta.usage or usage
    yield Delta(checked("".join(parts).strip(), question, items, said))
    yield Delta(finish_reason=finish, usage=usage)


def checked(reply: str, question: str, items: Sequence[ContextItem],
            said: Sequence[str] = ()) -> str:
    """``reply`` when the memories and the user's words ground it; else the best matching
    memory, quoted; else "I don't know"."""
    sources = [c.text for c in items] + [*said, question]
    declined = bool(_DECLINES.search(reply)) or not _REF.sub("", reply).strip()
    invented = ungrounded(_REF.sub("", reply), sources, min_words=0.0)
    if not declined and not invented and not _MARKER_AS_VALUE.search(reply):
        return reply
    cited = {int(n) for n in _CITED.findall(reply)}
    best = (best_match(question, [c for c in items if c.ref in cited])
            or best_match(question, items))
    if best is None:
        return DONT_KNOW
    return f"You told me: \u201c{best.text.strip()}\u201d [{best.ref}]"


def best_match(question: str, items: Sequence[ContextItem]) -> ContextItem | None:
    """The memory sharing most of the question's content words (at least two, or all of
    them when it has fewer), the latest told among equals; None when none does."""
    wanted = stems(" ".join(w for w in _CONTENT.findall(question.lower()) if w not in _STOP))
    need = min(2, len(wanted)) or 1
    scored = [(len(wanted & stems(c.text)), c.when.timestamp() if c.when else 0.0, c)
              for c in items]
    scored = [s for s in scored if s[0] >= need]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else None

