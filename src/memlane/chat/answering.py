"""Streaming a grounded reply: LLM deltas become Token events, then one Done event with
the citations (memory ids), token usage and phase timings."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

from ..models.llm import Delta, Usage
from ..timing import Phases
from .events import ContextItem, Done, Event, Token

_REF = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_WORD = re.compile(r"[a-z0-9]{3,}")
_DONT_KNOW = re.compile(r"\b(i don'?t know|not (?:mentioned|available|in (?:the|my) memor))",
                        re.I)


async def stream_reply(deltas: AsyncIterator[Delta], items: Sequence[ContextItem],
                       phases: Phases) -> AsyncIterator[Event]:
    """``deltas``: the LLM's generation (not started yet: it is timed here)."""
    parts: list[str] = []
    usage, reason = Usage(), "stop"
    with phases.span("generation"):
        async for delta in deltas:
            if delta.text:
                if not parts:
                    phases.since_start("first_token")
                parts.append(delta.text)
                yield Token(delta.text)
            if delta.finish_reason:
                usage, reason = delta.usage or usage, delta.finish_reason
    answer = "".join(parts).strip()
    yield Done(answer, cite(answer, items), usage, phases.total(),
               known=not says_unknown(answer), finish_reason=reason)


def says_unknown(answer: str) -> bool:
    return bool(_DONT_KNOW.search(answer[:120]))


def cite(answer: str, items: Sequence[ContextItem]) -> list[str]:
    """Memory ids cited as [n]; when the model cited none, the memories whose words the
    answer shares most (at least two content words)."""
    by_ref = {c.ref: c.memory_id for c in items}
    cited = [by_ref[int(n)] for group in _REF.findall(answer) for n in group.split(",")
             if int(n) in by_ref]
    if cited or says_unknown(answer):
        return list(dict.fromkeys(cited))
    words = set(_WORD.findall(answer.lower()))
    overlap = [(len(words & set(_WORD.findall(c.text.lower()))), c.memory_id) for c in items]
    best = max((n for n, _ in overlap), default=0)
    return [mid for n, mid in overlap if n >= 2 and n == best]
