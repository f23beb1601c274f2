"""Conversations (sessions): create, list, history, delete; messages saved with their
embeddings; working memory (the last N messages) kept in RAM while a session is active.
A session expires after an idle period: its working memory is dropped, its messages kept,
and a new message revives it from the store."""
from __future__ import annotations

import time
import uuid
from collections import deque
from typing import Any

from ..config import Settings
from ..domain import Conversation, Message, Role, utcnow
from ..errors import Invalid, NotFound
from ..models.llm import LLM
from ..models.runner import ModelRunner
from ..store.base import Store
from .agents import AgentConfig
from .personas import index_persona

MAX_MESSAGE_CHARS = 20_000  # one chat message, typed or said


class Conversations:
    def __init__(self, settings: Settings, store: Store, models: ModelRunner, llm: LLM,
                 agents: dict[str, AgentConfig]):
        self.settings, self.store, self.models, self.llm = settings, store, models, llm
        self.agents = agents
        self._working: dict[str, deque[Message]] = {}
        self._seen: dict[str, float] = {}

    def agent(self, conversation: Conversation) -> AgentConfig:
        return self.agents.get(conversation.agent or "default", self.agents["default"])

    async def create(self, user_id: str, *, title: str | None = None,
                     persona: str | None = None, agent: str | None = None,
                     metadata: dict[str, Any] | None = None) -> Conversation:
        if agent is not None and agent not in self.agents:
            raise Invalid(f"unknown agent {agent!r}; known: {', '.join(self.agents)}",
                          param="agent")
        persona = persona or (self.agents[agent].persona if agent else None)
        conversation = await self.store.create_conversation(Conversation(
            uuid.uuid4().hex, user_id, title=title, persona=persona, agent=agent,
            metadata=metadata or {}))
        if persona:
            await index_persona(self.store, self.models, user_id, conversation.id, persona)
        return conversation

    async def get(self, user_id: str, conversation_id: str) -> Conversation:
        conversation = await self.store.get_conversation(user_id, conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    async def list(self, user_id: str, limit: int, offset: int = 0
                   ) -> tuple[list[Conversation], int]:
        return await self.store.list_conversations(user_id, limit=limit, offset=offset)

    async def history(self, user_id: str, conversation_id: str, limit: int | None = None
                      ) -> tuple[Conversation, list[Message]]:
        conversation = await self.get(user_id, conversation_id)
        messages = await self.store.list_messages(user_id, conversation_id, limit=limit,
                                                  last=limit is not None)
        return conversation, messages

    async def delete(self, user_id: str, conversation_id: str) -> None:
        if not await self.store.delete_conversation(user_id, conversation_id):
            raise NotFound(f"conversation {conversation_id} not found")
        self._forget(conversation_id)

    async def save(self, conversation: Conversation, role: Role, content: str,
                   **fields: Any) -> Message:
        # the query cache: the turn's emotion reading and retrieval embedded it already
        vector = await self.models.embed_query(content) if content else None
        message = await self.store.add_message(Message(
            uuid.uuid4().hex, conversation.id, conversation.user_id, role, content,
            tokens=self.llm.count_tokens(content), vector=vector, **fields))
        working = await self.working(conversation)
        if not working or working[-1].id != message.id:
            working.append(message)
        return message

    async def working(self, conversation: Conversation) -> deque[Message]:
        """The last N messages, from RAM while the session is active, else from the store."""
        self.expire()
        cid = conversation.id
        if cid not in self._working:
            recent = await self.store.list_messages(
                conversation.user_id, cid, limit=self.settings.working_memory, last=True)
            self._working[cid] = deque(recent, maxlen=self.settings.working_memory)
        self._seen[cid] = time.monotonic()
        return self._working[cid]

    def is_active(self, conversation: Conversation) -> bool:
        idle = (utcnow() - conversation.updated_at).total_seconds()
        return idle < self.settings.session_idle_s

    def active_sessions(self) -> int:
        self.expire()
        return len(self._working)

    def expire(self) -> None:
        cutoff = time.monotonic() - self.settings.session_idle_s
        for cid in [c for c, seen in self._seen.items() if seen < cutoff]:
            self._forget(cid)

    def _forget(self, conversation_id: str) -> None:
        self._working.pop(conversation_id, None)
        self._seen.pop(conversation_id, None)
