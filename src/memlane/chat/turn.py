"""The chat turn pipeline (SPEC C): save the user message and keep what it tells as a
memory at once → analyse and retrieve → build the context within budgets → stream the
reply (time to first token recorded; a personal question is answered only from memories,
see `grounding`) → save it → enqueue background work (fact extraction from what was told,
summarisation). Every phase is timed."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from ..analytics.recorder import Recorder
from ..config import Settings
from ..domain import Conversation, Memory, Message, Role, utcnow
from ..emotion.reading import EmotionReading
from ..emotion.service import Emotions
from ..jobs import Jobs
from ..memory.context import (
    Budgets,
    budgets_for,
    entity_line,
    fit_history,
    render_memories,
)
from ..memory.service import MemoryService
from ..models.llm import LLM
from ..timing import Phases
from . import prompts
from .agents import AgentConfig
from .answering import stream_reply
from .ask import Asker
from .emotional import emotional_section, is_clear
from .events import Contexts, Done, Event
from .grounding import guarded
from .personas import relevant_persona
from .service import Conversations


class Turns:
    def __init__(self, settings: Settings, conversations: Conversations, asker: Asker,
                 llm: LLM, jobs: Jobs, emotions: Emotions, recorder: Recorder,
                 memories: MemoryService, learn: Callable[[str, Memory], Awaitable[None]]):
        """``learn``: queues fact extraction from a memory the user told."""
        self.settings, self.conversations, self.asker = settings, conversations, asker
        self.llm, self.jobs, self.emotions, self.recorder = llm, jobs, emotions, recorder
        self.memories, self.learn = memories, learn

    async def run(self, user_id: str, conversation_id: str | None, text: str, *,
                  max_tokens: int | None = None, emotion: EmotionReading | None = None,
                  metadata: dict | None = None) -> AsyncIterator[Event]:
        """``emotion``: the reading when the caller has a better one (speech fused with
        text); otherwise it is read from the text."""
        phases = Phases()
        chats = self.conversations
        with phases.span("setup"):
            conversation = (await chats.get(user_id, conversation_id) if conversation_id
                            else await chats.create(user_id))
            agent = chats.agent(conversation)
            history = list(await chats.working(conversation))
        with phases.span("save_user"):
            reading = emotion or await self.emotions.detect(text)
            importance = self.emotions.importance(text, reading)
            asked = await chats.save(conversation, Role.user, text, emotion=reading.label,
                                     importance=importance,
                                     metadata={**(metadata or {}),
                                               "emotion": reading.as_dict()})
            kept = await self.memories.keep_told(
                user_id, text, {"conversation_id": conversation.id, "message_id": asked.id},
                emotion=reading.label, importance=importance)
        max_tokens = max_tokens or agent.max_tokens or self.settings.llm_max_tokens
        messages, items = await self._prompt(conversation, agent, history, text, reading,
                                             max_tokens, phases, asked.id)
        ids = {"conversation_id": conversation.id, "user_message_id": asked.id,
               "emotion": reading.as_dict(), "remembered": [kept.id] if kept else []}
        yield Contexts(items, dict(ids))
        temperature = (agent.temperature if agent.temperature is not None
                       else self.settings.llm_temperature)
        said = [m.content for m in history if m.role == Role.user]
        deltas = guarded(self.llm.generate(messages, max_tokens=max_tokens,
                                           temperature=temperature), text, items, said)
        async for event in stream_reply(deltas, items, phases):
            if isinstance(event, Done):
                await self._finish(conversation, asked, kept, event, phases, ids)
            yield event

    async def _prompt(self, conversation: Conversation, agent: AgentConfig, history: list,
                      text: str, reading: EmotionReading, max_tokens: int, phases: Phases,
                      asked_id: str) -> tuple[list[dict[str, str]], list]:
        """The messages for the LLM and the memories they hold (as context items)."""
        mode, budgets = self._budgets(conversation, agent, max_tokens)
        items, memories = await self.asker.contexts(
            conversation.user_id, text, phases, mode=mode, max_tokens=max_tokens,
            limit=agent.contexts,
            emotion=reading.label if is_clear(reading, self.settings) else None)
        with phases.span("context"):
            start = await self._start(conversation, agent, history, text, budgets)
            notes = prompts.chat_notes(
                render_memories(items, memories),
                entity_line(memories, budgets.entities, self.llm.count_tokens),
                utcnow().strftime("%d %B %Y"),
                await emotional_section(self.conversations.store, self.settings,
                                        conversation.user_id, reading, asked_id))
        if agent.memories_at == "message":  # the frame and history stay a cached prefix
            messages = [*start, {"role": "system", "content": notes}]
        else:
            frame, *said = start
            messages = [{"role": "system", "content": f"{frame['content']}\n\n{notes}"},
                        *said]
        return [*messages, {"role": "user", "content": text}], items

    async def prefix(self, user_id: str, conversation_id: str) -> list[dict[str, str]]:
        """The messages the conversation's next prompt starts with (its system frame and
        the kept history) when its agent puts memories after them, for `LLM.prefill`;
        empty otherwise."""
        conversation = await self.conversations.get(user_id, conversation_id)
        agent = self.conversations.agent(conversation)
        if agent.memories_at != "message":
            return []
        history = list(await self.conversations.working(conversation))
        max_tokens = agent.max_tokens or self.settings.llm_max_tokens
        _, budgets = self._budgets(conversation, agent, max_tokens)
        return await self._start(conversation, agent, history, "", budgets)

    def _budgets(self, conversation: Conversation, agent: AgentConfig, max_tokens: int
                 ) -> tuple[str, Budgets]:
        mode = agent.mode or ("persona" if conversation.persona else "sections")
        return mode, budgets_for(self.llm.context_window, max_tokens, mode, agent.budgets)

    async def _start(self, conversation: Conversation, agent: AgentConfig, history: list,
                     text: str, budgets: Budgets) -> list[dict[str, str]]:
        """The system frame and the history that fits, as messages."""
        kept, cut = fit_history(history, budgets.history, self.llm.count_tokens)
        older = bool(history) and history[-1].seq > len(history)  # not all in working memory
        frame = await self._frame(conversation, agent, text, cut or older)
        return [{"role": "system", "content": frame},
                *({"role": str(m.role), "content": m.content} for m in kept)]

    async def _frame(self, conversation: Conversation, agent: AgentConfig, text: str,
                     history_cut: bool) -> str:
        """The system prompt, its persona and the summary of cut history; for a
        "message"-layout agent, nothing in it depends on the user's message."""
        base = agent.system_prompt
        persona_chars = int(self.llm.context_window * 0.20 * 4) - len(base)
        persona = await relevant_persona(
            self.conversations.store, self.conversations.models, conversation,
            "" if agent.memories_at == "message" else text, max(400, persona_chars))
        summary = ""
        if history_cut:
            latest = await self.conversations.store.latest_summary(conversation.user_id,
                                                                   conversation.id)
            summary = latest.text if latest else ""
        return prompts.chat_frame(base, persona, summary)

    async def _finish(self, conversation: Conversation, asked: Message, kept: Memory | None,
                      done: Done, phases: Phases, ids: dict) -> None:
        with phases.span("save"):
            reply = await self.conversations.save(
                conversation, Role.assistant, done.answer,
                metadata={"citations": done.citations,
                          "first_token_ms": phases.ms.get("first_token")})
        with phases.span("enqueue"):
            await self._enqueue(conversation, asked, kept, reply)
        done.timings_ms = phases.total()
        done.extra = {**ids, "message_id": reply.id}
        self.recorder.record("chat", conversation.user_id, done.timings_ms, phases.hits,
                             usage=done.usage, conversation_id=conversation.id)

    async def _enqueue(self, conversation: Conversation, asked: Message, kept: Memory | None,
                       reply: Message) -> None:
        s = self.settings
        if kept is not None:
            await self.learn(conversation.user_id, kept)
        every = s.summarise_every
        due = reply.seq > s.working_memory and reply.seq // every > (asked.seq - 1) // every
        if self.llm.generates and due:
            await self.jobs.enqueue("summarise", conversation.user_id,
                                    {"conversation_id": conversation.id})
