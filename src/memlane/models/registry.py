"""One registry for every swappable part (embedders, NLP, stores, later LLM/STT/TTS).

Built-ins register here exactly as test fakes and plugins do:

    @register("embedder", "minilm")
    def _minilm(settings): return MiniLMEmbedder(threads=settings.model_threads)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import Invalid

Factory = Callable[[Any], Any]
_REGISTRY: dict[str, dict[str, Factory]] = {}


def register(kind: str, name: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _REGISTRY.setdefault(kind, {})[name] = factory
        return factory
    return decorator


def names(kind: str) -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY.get(kind, {}))


def create(kind: str, name: str, settings: Any) -> Any:
    _load_builtins()
    try:
        factory = _REGISTRY[kind][name]
    except KeyError:
        raise Invalid(f"unknown {kind} {name!r}; known: {', '.join(names(kind))}",
                      param=kind) from None
    return factory(settings)


def _load_builtins() -> None:
    from . import builtins  # noqa: F401  (registers on import)
