"""Registration of the built-in implementations. Heavy imports happen inside factories."""
from __future__ import annotations

from .registry import register


@register("embedder", "minilm")
def _minilm(settings):
    from .embedder import MiniLMEmbedder
    return MiniLMEmbedder(threads=settings.model_threads, batch_size=settings.embed_batch_size,
                          cache_size=settings.embed_cache_size)


@register("nlp", "spacy")
def _spacy(settings):
    from .nlp import SpacyNLP
    return SpacyNLP()


@register("store", "sqlite")
def _sqlite(settings):
    from ..store.sqlite import SQLiteStore
    return SQLiteStore(settings.db_path)
