"""Summarisation (SPEC C): every N messages a job folds the older part of a conversation
(what working memory no longer holds) into a running summary, keeping emotional moments
and decisions. The context builder puts the latest summary in place of cut history."""
from __future__ import annotations

import uuid

from ..domain import Summary
from ..models.llm import LLM
from ..store.base import Store
from .context import fit_text

SUMMARY_PROMPT = (
    "Summarise the conversation below between the user and the assistant in at most 120 "
    "words, in the third person. Keep facts about the user, decisions and plans, and "
    "emotional moments (what the user felt and why). Start from the earlier summary if "
    "there is one, and keep what still matters from it.")


class Summariser:
    def __init__(self, store: Store, llm: LLM, *, keep_recent: int = 20):
        self.store, self.llm, self.keep_recent = store, llm, keep_recent

    async def run(self, user_id: str, conversation_id: str) -> Summary | None:
        """Summarise messages older than the last ``keep_recent``; None when nothing new."""
        upto = await self.store.count_messages(user_id, conversation_id) - self.keep_recent
        previous = await self.store.latest_summary(user_id, conversation_id)
        after = previous.upto_seq if previous else 0
        if upto <= after:
            return None
        messages = await self.store.list_messages(user_id, conversation_id, after_seq=after,
                                                  upto_seq=upto)
        transcript = "\n".join(f"{m.role}: {m.content}" for m in messages)
        budget = self.llm.context_window // 2
        parts = []
        if previous:
            parts.append(f"Earlier summary: {previous.text}")
        parts.append(f"Conversation:\n{fit_text(transcript, budget, self.llm.count_tokens)}")
        done = await self.llm.complete(
            [{"role": "system", "content": SUMMARY_PROMPT},
             {"role": "user", "content": "\n\n".join(parts)}], max_tokens=220, temperature=0.0)
        return await self.store.add_summary(Summary(
            uuid.uuid4().hex, conversation_id, user_id, done.text.strip(), upto))
