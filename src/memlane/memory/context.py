"""The context builder: what goes into a prompt, within token budgets (SPEC C).

Two modes. "sections": a budget per memory type plus entities and recent conversation
(defaults for a large window, scaled down to the model's). "persona": shares of the
model's window (system/persona 20%, memories 25%, history 35%, reply 20%). The system
prompt and persona are never truncated; history is cut from the oldest end.

Memories are rendered in time order, not score order, so the same memories give the same
prompt prefix and llama.cpp can reuse its KV cache across questions.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..chat.events import ContextItem
from ..domain import Memory, Message
from .ranking import Ranked

SECTION_DEFAULTS = {"profile": 600, "semantic": 1500, "episodic": 1500, "procedural": 400,
                    "entities": 300, "recent": 300}
PERSONA_SHARES = {"persona": 0.20, "memories": 0.25, "history": 0.35, "reply": 0.20}
Mode = Literal["sections", "persona"]
Counter = Callable[[str], int]


@dataclass
class Budgets:
    per_type: dict[str, int]  # memory type -> tokens
    memories: int  # all memories together
    entities: int
    history: int
    reply: int


def budgets_for(window: int, max_reply: int, mode: Mode = "sections",
                sections: dict[str, int] | None = None) -> Budgets:
    if mode == "persona":
        share = {k: int(v * window) for k, v in PERSONA_SHARES.items()}
        types = dict.fromkeys(("profile", "semantic", "episodic", "procedural"),
                              share["memories"])
        return Budgets(types, share["memories"], share["memories"] // 5, share["history"],
                       min(max_reply, share["reply"]))
    wanted = {**SECTION_DEFAULTS, **(sections or {})}
    reply = min(max_reply, window // 4)
    scale = min(1.0, 0.8 * (window - reply) / sum(wanted.values()))
    scaled = {k: int(v * scale) for k, v in wanted.items()}
    types = {k: scaled[k] for k in ("profile", "semantic", "episodic", "procedural")}
    return Budgets(types, sum(types.values()), scaled["entities"], scaled["recent"], reply)


def select_memories(ranked: Sequence[Ranked], budgets: Budgets, count: Counter
                    ) -> list[Ranked]:
    """Best first, each within its type's budget and the total; rest dropped."""
    used = dict.fromkeys(budgets.per_type, 0)
    total, chosen = 0, []
    for r in ranked:
        cost = count(render_line(0, r.memory.text, r.memory.event_time, r.memory.metadata))
        kind = str(r.memory.type)
        if used.get(kind, 0) + cost > budgets.per_type.get(kind, 0):
            continue
        if total + cost > budgets.memories:
            continue
        used[kind] = used.get(kind, 0) + cost
        total += cost
        chosen.append(r)
    return chosen


def context_items(chosen: Sequence[Ranked]) -> list[ContextItem]:
    """Numbered in time order (stable prompt prefix); ref n is cited as [n]."""
    ordered = sorted(chosen, key=lambda r: (r.memory.event_time, r.memory.id))
    return [ContextItem(i, r.memory.id, r.memory.text, r.score, str(r.memory.type),
                        r.memory.event_time) for i, r in enumerate(ordered, start=1)]


def render_line(ref: int, text: str, when, metadata: dict | None = None) -> str:
    speaker = (metadata or {}).get("speaker")
    said = f"{speaker}: " if speaker else ""
    day = when.strftime("%d %B %Y") if when else "undated"
    return f"[{ref}] ({day}) {said}{text}"


def render_memories(items: Sequence[ContextItem], memories: dict[str, Memory] | None = None
                    ) -> str:
    """One line per memory; metadata such as the speaker comes from ``memories``."""
    memories = memories or {}
    return "\n".join(render_line(c.ref, c.text, c.when, _metadata(memories, c.memory_id))
                     for c in items)


def _metadata(memories: dict[str, Memory], memory_id: str) -> dict | None:
    memory = memories.get(memory_id)
    return memory.metadata if memory else None


def entity_line(memories: dict[str, Memory], budget: int, count: Counter) -> str:
    names = list(dict.fromkeys(e for m in memories.values() for e in m.entities))
    return fit_text(", ".join(names), budget, count) if names and budget > 0 else ""


def fit_history(messages: Sequence[Message], budget: int, count: Counter
                ) -> tuple[list[Message], bool]:
    """The newest messages that fit, oldest first, and whether older ones were cut."""
    kept: list[Message] = []
    used = 0
    for message in reversed(messages):
        cost = message.tokens or count(message.content)
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    return kept, len(kept) < len(messages)


def fit_text(text: str, budget: int, count: Counter) -> str:
    """Cut a text at a word boundary to roughly ``budget`` tokens."""
    if count(text) <= budget:
        return text
    words = text.split()
    keep = max(1, int(len(words) * budget / max(1, count(text))))
    return " ".join(words[:keep]) + " …"
