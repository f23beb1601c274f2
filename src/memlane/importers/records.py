"""One imported message as memories: episodic, source `import`, when it was said, and
metadata that keeps who said it, in which conversation (`session`) and under what title.
The client id comes from the source's own message id, so importing again adds nothing."""
from __future__ import annotations

from datetime import UTC, datetime

from ..schemas import MemoryCreate

MAX_PIECE_CHARS = 40_000  # below the server's text limit; longer messages are split


def when(value) -> datetime | None:
    """An epoch number or an ISO 8601 string as an aware datetime (None if neither)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def message(kind: str, session: str, message_id: str, text: str, *, role: str,
            speaker: str, title: str | None = None, at: datetime | None = None
            ) -> list[MemoryCreate]:
    text = text.strip()
    if not text:
        return []
    metadata = {"speaker": speaker, "role": role, "session": session, "importer": kind}
    if title:
        metadata["title"] = title
    pieces = split(text)
    return [MemoryCreate(text=piece, type="episodic", source="import", occurred_at=at,
                         metadata=metadata,
                         client_id=f"{kind}:{message_id}" + (f":{i}" if i else ""))
            for i, piece in enumerate(pieces)]


def split(text: str, limit: int = MAX_PIECE_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph or a space."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        cut = cut if cut > limit // 2 else text.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return [p for p in [*pieces, text] if p]
