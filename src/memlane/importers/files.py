"""memlane's own formats: JSON lines (a line of `export`, or at least {"text": ...}) and
text or markdown files, whole (paragraphs packed into parts when a file is huge)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..errors import BadRequest
from ..memory.service import import_item
from ..schemas import MemoryCreate
from .records import MAX_PIECE_CHARS


def read_jsonl(lines: Iterable[str]) -> Iterator[MemoryCreate | Exception]:
    """Each record, or the error that stops it being one (reported, not fatal)."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield import_item(json.loads(line))
        except (json.JSONDecodeError, RecursionError):  # also: nested too deep
            yield BadRequest(f"line {n} is not valid JSON")
        except (ValueError, TypeError) as exc:
            yield exc


def read_text(text: str, name: str) -> Iterator[MemoryCreate]:
    for part in parts(text):
        yield MemoryCreate(text=part, source="import", metadata={"file": name})


def parts(text: str) -> list[str]:
    """Whole files unless they are huge; then paragraphs packed up to the part size."""
    if not text.strip():
        return []
    found, current = [], ""
    for para in text.split("\n\n"):
        if current and len(current) + len(para) + 2 > MAX_PIECE_CHARS:
            found.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    found.append(current)
    return [p[:MAX_PIECE_CHARS] for p in found if p.strip()]
