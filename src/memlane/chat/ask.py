"""Ask: question → retrieval → threshold → contexts → streamed, cited answer.

`augment` is the same grounding for a whole OpenAI-style message list: the caller's
memories go into a system message placed first (before the caller's own messages)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from ..analytics.recorder import Recorder
from ..config import Settings
from ..domain import Memory, utcnow
from ..errors import Invalid
from ..memory.context import budgets_for, context_items, render_memories, select_memories
from ..memory.ranking import Ranked
from ..memory.retrieval import Retriever
from ..models.llm import LLM, Usage
from ..schemas import SearchQuery
from ..timing import Phases
from . import prompts
from .answering import stream_reply
from .events import ContextItem, Contexts, Done, Event, Token

MAX_QUESTION_CHARS = 4000


class Asker:
    def __init__(self, settings: Settings, retriever: Retriever, llm: LLM,
                 recorder: Recorder):
        self.settings, self.retriever, self.llm = settings, retriever, llm
        self.recorder = recorder

    async def ask(self, user_id: str, question: str, *, limit: int | None = None,
                  max_tokens: int | None = None, now: datetime | None = None
                  ) -> AsyncIterator[Event]:
        question = question.strip()
        if not question or len(question) > MAX_QUESTION_CHARS:
            raise Invalid(f"a question needs 1 to {MAX_QUESTION_CHARS} characters (for a "
                          "spoken one: audio, then end)", param="question")
        phases = Phases()
        max_tokens = max_tokens or self.settings.llm_max_tokens
        items, memories = await self.contexts(user_id, question, phases, limit=limit,
                                              max_tokens=max_tokens, now=now)
        yield Contexts(items)
        if not items:
            yield Token(prompts.DONT_KNOW)
            yield self._recorded(user_id, phases, Done(prompts.DONT_KNOW, [], Usage(),
                                                       phases.total(), known=False))
            return
        with phases.span("context"):
            today = (now or utcnow()).strftime("%d %B %Y")
            system = prompts.ASK_SYSTEM + "\n\n" + prompts.memory_section(
                render_memories(items, memories), today)
            messages = [{"role": "system", "content": system},
                        {"role": "user", "content": prompts.ask_user(question)}]
        deltas = self.llm.generate(messages, max_tokens=max_tokens,
                                   temperature=self.settings.llm_temperature)
        async for event in stream_reply(deltas, items, phases):
            yield self._recorded(user_id, phases, event) if isinstance(event, Done) else event

    def _recorded(self, user_id: str, phases: Phases, done: Done) -> Done:
        self.recorder.record("ask", user_id, done.timings_ms, phases.hits, usage=done.usage)
        return done

    async def contexts(self, user_id: str, query: str, phases: Phases, *,
                       limit: int | None = None, max_tokens: int, mode: str = "sections",
                       now: datetime | None = None, emotion: str | None = None
                       ) -> tuple[list[ContextItem], dict[str, Memory]]:
        """The memories to ground on (above the threshold, within budget), as numbered
        context items and as memories by id."""
        s = self.settings
        with phases.span("retrieval"):
            outcome = await self.retriever.search(
                user_id, SearchQuery(query=query[:2000], limit=s.answer_candidates,
                                     emotion=emotion), now=now, phases=phases)
        budgets = budgets_for(self.llm.context_window, max_tokens, mode)  # type: ignore[arg-type]
        with phases.span("context"):
            relevant = [r for r in outcome.results if grounds(r, s.answer_min_cosine)]
            chosen = select_memories(relevant, budgets, self.llm.count_tokens)
            chosen = chosen[:limit or s.answer_contexts]
        return context_items(chosen), {r.memory.id: r.memory for r in chosen}

    async def augment(self, user_id: str, messages: list[dict[str, str]], *,
                      max_tokens: int, phases: Phases | None = None
                      ) -> tuple[list[dict[str, str]], list[ContextItem]]:
        """The caller's messages with the memories in the system message: appended to the
        caller's own system message when it sends one (kept first: it is the stable
        prefix), else in a new system message first (OpenAI door)."""
        query = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if not query.strip():
            return messages, []
        items, memories = await self.contexts(user_id, query, phases or Phases(),
                                              max_tokens=max_tokens)
        section = prompts.memory_section(render_memories(items, memories),
                                         utcnow().strftime("%d %B %Y"))
        if messages and messages[0]["role"] == "system":
            first = {"role": "system", "content": f"{messages[0]['content']}\n\n"
                     f"{prompts.MEMORY_NOTE}\n{section}"}
            return [first, *messages[1:]], items
        return [{"role": "system", "content": f"{prompts.CHAT_SYSTEM}\n\n{section}"},
                *messages], items

def grounds(r: Ranked, min_cosine: float) -> bool:
    """Evidence that a memory bears on the query, beyond priors such as recency."""
    signals = r.reasons.get("signals", {})
    return (signals.get("keyword", 0) > 0 or signals.get("entity", 0) > 0
            or signals.get("vector", 0) >= min_cosine
            or r.reasons.get("neighbour_of_score", 0) > 0)
