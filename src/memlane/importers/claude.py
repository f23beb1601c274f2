"""Claude's data export: `conversations.json`, a JSON array of conversations (`uuid`,
`name`, `chat_messages`), read one conversation at a time. A message has a `sender`
(human or assistant), `created_at`, and its text in `text` or in `content` blocks."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson

from ..schemas import MemoryCreate
from .records import message, when

KIND = "claude"
ROLES = {"human": ("user", "User"), "assistant": ("assistant", "Claude")}


def read(stream: IO[bytes]) -> Iterator[MemoryCreate]:
    for conversation in ijson.items(stream, "item", use_float=True):
        yield from conversation_items(conversation)


def conversation_items(conversation: dict[str, Any]) -> Iterator[MemoryCreate]:
    session = str(conversation.get("uuid") or "")
    title = conversation.get("name") or None
    for n, msg in enumerate(conversation.get("chat_messages") or []):
        if msg.get("sender") not in ROLES:
            continue
        role, speaker = ROLES[msg["sender"]]
        yield from message(KIND, session, str(msg.get("uuid") or f"{session}:{n}"),
                           text_of(msg), role=role, speaker=speaker, title=title,
                           at=when(msg.get("created_at")))


def text_of(msg: dict[str, Any]) -> str:
    blocks = [b.get("text") or "" for b in msg.get("content") or []
              if isinstance(b, dict) and b.get("type") == "text"]
    return "\n\n".join(b for b in blocks if b.strip()) or msg.get("text") or ""
