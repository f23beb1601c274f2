"""ChatGPT's data export: `conversations.json`, a JSON array of conversations, read one
conversation at a time. Each has a `mapping` of nodes (a tree: regenerated answers and
edited questions are branches); the conversation as the user last saw it is the path from
the root to `current_node`."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson

from ..schemas import MemoryCreate
from .records import message, when

KIND = "chatgpt"
SPEAKERS = {"user": "User", "assistant": "ChatGPT"}
TEXT_TYPES = {"text", "multimodal_text"}


def read(stream: IO[bytes]) -> Iterator[MemoryCreate]:
    for conversation in ijson.items(stream, "item", use_float=True):
        yield from conversation_items(conversation)


def conversation_items(conversation: dict[str, Any]) -> Iterator[MemoryCreate]:
    session = str(conversation.get("conversation_id") or conversation.get("id") or "")
    title = conversation.get("title")
    for node in current_branch(conversation.get("mapping") or {},
                               conversation.get("current_node")):
        msg = node.get("message") or {}
        role = (msg.get("author") or {}).get("role")
        if role not in SPEAKERS or _hidden(msg):
            continue
        yield from message(KIND, session, str(msg.get("id") or node.get("id")),
                           text_of(msg.get("content") or {}), role=role,
                           speaker=SPEAKERS[role], title=title,
                           at=when(msg.get("create_time") or conversation.get("create_time")))


def current_branch(mapping: dict[str, Any], current: str | None) -> list[dict[str, Any]]:
    """The nodes from the root to ``current`` (the last node when it is missing)."""
    if current not in mapping:
        current = next(reversed(mapping), None) if mapping else None
    path, seen = [], set()
    while current in mapping and current not in seen:
        seen.add(current)
        path.append(mapping[current])
        current = mapping[current].get("parent")
    return path[::-1]


def text_of(content: dict[str, Any]) -> str:
    if content.get("content_type") not in TEXT_TYPES:
        return ""
    return "\n".join(p for p in content.get("parts") or [] if isinstance(p, str))


def _hidden(msg: dict[str, Any]) -> bool:
    return bool((msg.get("metadata") or {}).get("is_visually_hidden_from_conversation"))
