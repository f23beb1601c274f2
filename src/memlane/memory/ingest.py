"""Ingest: text -> sentences and entities (NLP) -> chunks -> embeddings, batched."""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from ..config import Settings
from ..domain import Chunk, EntityMention
from ..models.runner import ModelRunner
from .chunking import chunk_text


@dataclass
class Prepared:
    chunks: list[Chunk]
    mentions: list[EntityMention]


async def prepare(texts: list[str], models: ModelRunner, settings: Settings,
                  metadata: list[dict] | None = None) -> list[Prepared]:
    """Everything the store needs for each text; one NLP pass and one embedding pass.
    Values of ``settings.index_context_keys`` in a memory's metadata (such as who said it)
    are indexed with each of its chunks, so "what did Caroline say" finds her turns.
    A text that fits one chunk is that chunk whatever its sentences, so it is embedded
    while the NLP reads the batch (the two models run at once on the two cores)."""
    metadata = metadata or [{} for _ in texts]
    prefixes = [context_prefix(meta, settings.index_context_keys) for meta in metadata]
    whole = {prefix + text.strip() for text, prefix in zip(texts, prefixes)
             if len(text) <= settings.chunk_chars}
    parsed, early = await asyncio.gather(models.parse(texts), models.embed(sorted(whole)))
    chunked = [chunk_text(text, p.sentences, settings.chunk_chars, settings.chunk_overlap_chars)
               for text, p in zip(texts, parsed)]
    for chunks, prefix in zip(chunked, prefixes):
        for chunk in chunks:
            chunk.text = prefix + chunk.text.strip()
    flat = [c for chunks in chunked for c in chunks]
    vectors = dict(zip(sorted(whole), early))
    rest = [c.text for c in flat if c.text not in vectors]
    vectors.update(zip(rest, await models.embed(rest)) if rest else ())
    for chunk in flat:
        chunk.vector = vectors[chunk.text]
    return [Prepared(chunks, _mentions(p, meta, settings))
            for chunks, p, meta in zip(chunked, parsed, metadata)]


def context_prefix(metadata: dict, keys: list[str]) -> str:
    values = [str(metadata[k]).strip() for k in keys
              if isinstance(metadata.get(k), str | int | float) and str(metadata[k]).strip()]
    return f"{', '.join(values)}: " if values else ""


def _mentions(parsed, metadata: dict, settings: Settings) -> list[EntityMention]:
    mentions = list(parsed.entities)
    if settings.link_context_entities:
        mentions += [EntityMention(str(metadata[k]), "PERSON")
                     for k in settings.index_context_keys if isinstance(metadata.get(k), str)]
    return _unique(mentions, settings.max_entities_per_memory)


def _unique(mentions: list[EntityMention], most: int) -> list[EntityMention]:
    """One mention per name, in order of first mention; past ``most`` names, the most often
    mentioned (each linked pair of names is a stored relation: n names make n x (n - 1))."""
    seen: dict[str, EntityMention] = {}
    counts: Counter[str] = Counter()
    for m in mentions:
        seen.setdefault(m.name.lower(), m)
        counts[m.name.lower()] += 1
    if len(seen) > most:
        kept = {name for name, _ in counts.most_common(most)}
        seen = {name: m for name, m in seen.items() if name in kept}
    return list(seen.values())
