"""Ingest: text -> sentences and entities (NLP) -> chunks -> embeddings, batched."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..domain import Chunk, EntityMention
from ..models.runner import ModelRunner
from .chunking import chunk_text


@dataclass
class Prepared:
    chunks: list[Chunk]
    mentions: list[EntityMention]


async def prepare(texts: list[str], models: ModelRunner, settings: Settings) -> list[Prepared]:
    """Everything the store needs for each text; one NLP pass and one embedding pass."""
    parsed = await models.parse(texts)
    chunked = [chunk_text(text, p.sentences, settings.chunk_chars, settings.chunk_overlap_chars)
               for text, p in zip(texts, parsed)]
    flat = [c for chunks in chunked for c in chunks]
    vectors = await models.embed([c.text for c in flat])
    for chunk, vector in zip(flat, vectors):
        chunk.vector = vector
    return [Prepared(chunks, _unique(p.entities)) for chunks, p in zip(chunked, parsed)]


def _unique(mentions: list[EntityMention]) -> list[EntityMention]:
    seen: dict[str, EntityMention] = {}
    for m in mentions:
        seen.setdefault(m.name.lower(), m)
    return list(seen.values())
