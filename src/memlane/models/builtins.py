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


@register("store", "postgres")
def _postgres(settings):
    from ..errors import Invalid
    try:
        from ..store.postgres import PostgresStore
    except ImportError as exc:
        raise Invalid(str(exc)) from exc
    return PostgresStore(settings.database_url, pool_size=settings.database_pool_size,
                         job_lease_s=settings.job_lease_s)


@register("llm", "local")
def _llama(settings):
    from ..errors import Invalid
    from .llama import LlamaLLM
    from .weights import QWEN25_CODER_1_5B, packaged_gguf
    options = {"n_ctx": settings.llm_context, "threads": settings.model_threads}
    if settings.llm_model_path is None:  # assembled from the packaged chunks at load
        return LlamaLLM(settings.models_dir / QWEN25_CODER_1_5B.filename,
                        prepare=lambda: packaged_gguf(settings.models_dir), **options)
    if not settings.llm_model_path.is_file():
        raise Invalid(f"llm_model_path {settings.llm_model_path} is not a file",
                      param="llm_model_path")
    return LlamaLLM(settings.llm_model_path, **options)


@register("llm", "remote")
def _remote(settings):
    from ..errors import Invalid
    from .remote import RemoteLLM
    if not settings.llm_base_url:
        raise Invalid("llm 'remote' needs llm_base_url (MEMLANE_LLM_BASE_URL), "
                      "e.g. http://127.0.0.1:11434/v1", param="llm_base_url")
    return RemoteLLM(settings.llm_base_url, settings.llm_remote_model,
                     api_key=settings.llm_api_key, context_window=settings.llm_context,
                     concurrency=settings.llm_concurrency, retries=settings.llm_retries,
                     backoff_s=settings.llm_backoff_s, timeout_s=settings.llm_timeout_s)


@register("llm", "none")
def _no_llm(settings):
    from .llm import NoLLM
    return NoLLM()


@register("stt", "whisper")
def _whisper(settings):
    from .speech import WhisperSTT
    return WhisperSTT(settings.models_dir, settings.model_threads, settings.stt_beam_size,
                      settings.stt_window_s)


@register("vad", "silero")
def _silero(settings):
    from .speech import SileroVAD
    return SileroVAD(settings.vad_threshold, settings.utterance_silence_ms)


@register("tts", "piper")
def _piper(settings):
    from .tts import PiperTTS
    return PiperTTS()


@register("tts", "none")
def _no_tts(settings):
    from .tts import NoTTS
    return NoTTS()


@register("emotion", "embedding")
def _embedding_emotion(settings):
    from ..emotion.classifier import EmbeddingEmotion
    return EmbeddingEmotion()
