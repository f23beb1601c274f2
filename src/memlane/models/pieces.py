"""Long texts go to the NLP model in pieces of bounded size, so one hostile text (12,000
emoji, "w " x 24,500) costs a bounded time per model call and a search waits for one
piece at most; the pieces' results are put back together with their offsets."""
from __future__ import annotations

import re

from .nlp import Parsed

_SENTENCE_END = re.compile(r"[.!?\n]\s+")
_ROUGH_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")


def split(text: str, max_chars: int) -> list[tuple[int, str]]:
    """(offset, piece) covering ``text``; cut after a sentence's end when there is one in
    the second half of the window, else at a space, else anywhere."""
    pieces, start = [], 0
    while len(text) - start > max_chars:
        end = start + max_chars
        window = text[start + max_chars // 2:end]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        space = window.rfind(" ")
        cut = (start + max_chars // 2 + (ends[-1] if ends else space + 1)
               if ends or space >= 0 else end)
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces


def merge(parts: list[tuple[int, Parsed]]) -> Parsed:
    """One Parsed from the pieces' (offset, Parsed), offsets made the whole text's."""
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]
    merged = Parsed()
    for offset, parsed in parts:
        merged.sentences += [(s + offset, e + offset) for s, e in parsed.sentences]
        merged.entities += parsed.entities
    return merged


def rough(text: str) -> Parsed:
    """Sentences by pattern, no entities: for what is past the time budget."""
    sentences = [(m.start(), m.end()) for m in _ROUGH_SENTENCE.finditer(text)
                 if m.group().strip()]
    return Parsed(sentences, [])
