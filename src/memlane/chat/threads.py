"""Response threads (the OpenAI Responses API's `previous_response_id`): each stored
response is a conversation's assistant message, and its id names that conversation and
message (`resp_<conversation>_<seq>`), so a thread survives restarts and every lookup is
scoped by its owner. Continuing from an earlier response than the last forks the thread:
the new conversation starts with the messages up to it."""
from __future__ import annotations

import re
import uuid

from ..domain import Conversation, Message, Role
from ..errors import NotFound
from ..store.base import Store

KIND = "responses"  # conversation metadata: a thread, not a chat session
_ID = re.compile(r"^resp_([0-9a-f]{32})_(\d+)$")


class Threads:
    def __init__(self, store: Store):
        self.store = store

    async def history(self, user_id: str, response_id: str | None) -> list[dict[str, str]]:
        """The messages up to and including that response, oldest first."""
        if not response_id:
            return []
        messages = await self._upto(user_id, response_id)
        return [{"role": str(m.role), "content": m.content} for m in messages]

    async def begin(self, user_id: str, previous_id: str | None,
                    said: list[dict[str, str]]) -> tuple[Conversation, str]:
        """Append what was said to the previous response's thread (or to a new or forked
        one): the thread, and the id the reply will have once `reply` stores it."""
        conversation, seq = await self._thread(user_id, previous_id)
        for m in said:
            await self._add(conversation, Role(m["role"]), m["content"])
        return conversation, response_id(conversation.id, seq + len(said) + 1)

    async def reply(self, conversation: Conversation, text: str) -> None:
        await self._add(conversation, Role.assistant, text)

    async def _thread(self, user_id: str, previous_id: str | None) -> tuple[Conversation, int]:
        earlier = await self._upto(user_id, previous_id) if previous_id else []
        if earlier:
            conversation_id, seq = _parse(previous_id)
            if seq == await self.store.count_messages(user_id, conversation_id):
                conversation = await self.store.get_conversation(user_id, conversation_id)
                return conversation, seq  # type: ignore[return-value]
        conversation = await self.store.create_conversation(Conversation(
            uuid.uuid4().hex, user_id, title="Responses", metadata={"kind": KIND}))
        for m in earlier:
            await self._add(conversation, m.role, m.content)
        return conversation, len(earlier)

    async def _upto(self, user_id: str, previous_id: str) -> list[Message]:
        missing = NotFound(f"response '{previous_id}' not found", param="previous_response_id")
        if not _ID.match(previous_id):
            raise missing
        conversation_id, seq = _parse(previous_id)
        conversation = await self.store.get_conversation(user_id, conversation_id)
        if conversation is None or conversation.metadata.get("kind") != KIND:
            raise missing
        messages = await self.store.list_messages(user_id, conversation_id, upto_seq=seq)
        if not messages or messages[-1].seq != seq or messages[-1].role != Role.assistant:
            raise missing
        return messages

    async def _add(self, conversation: Conversation, role: Role, content: str) -> Message:
        return await self.store.add_message(Message(
            uuid.uuid4().hex, conversation.id, conversation.user_id, role, content))


def response_id(conversation_id: str, seq: int) -> str:
    return f"resp_{conversation_id}_{seq}"


def _parse(response_id: str) -> tuple[str, int]:
    found = _ID.match(response_id)
    assert found
    return found[1], int(found[2])
