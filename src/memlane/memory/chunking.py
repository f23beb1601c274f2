"""Sentence-aware chunking: pack whole sentences up to a size, overlapping by sentences."""
from __future__ import annotations

import hashlib
import re

from ..domain import Chunk

_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()


def chunk_text(text: str, sentences: list[tuple[int, int]], max_chars: int,
               overlap_chars: int) -> list[Chunk]:
    """One chunk when the text fits; else chunks of whole sentences, each starting with the
    previous chunk's last sentences (up to ``overlap_chars``). Overlong sentences are cut."""
    if len(text) <= max_chars:
        return [Chunk(0, text, 0, len(text))]
    spans = [s for span in (sentences or [(0, len(text))]) for s in _cut(text, span, max_chars)]
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j, start = i, spans[i][0]
        while j < len(spans) and spans[j][1] - start <= max_chars:
            j += 1
        j = max(j, i + 1)
        end = spans[j - 1][1]
        chunks.append(Chunk(len(chunks), text[start:end], start, end))
        if j >= len(spans):
            break
        i = _overlap_start(spans, i, j, overlap_chars)
    return chunks


def _overlap_start(spans: list[tuple[int, int]], i: int, j: int, overlap: int) -> int:
    k = j
    while k - 1 > i and spans[j - 1][1] - spans[k - 1][0] <= overlap:
        k -= 1
    return k


def _cut(text: str, span: tuple[int, int], max_chars: int) -> list[tuple[int, int]]:
    start, end = span
    out = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out
