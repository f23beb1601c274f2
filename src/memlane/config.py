"""Settings: one pydantic-settings class, built per app by `load_settings` (no globals).

Every value comes from a `MEMLANE_*` environment variable, an optional TOML file named by
`MEMLANE_CONFIG_FILE`, or its default, in that order of precedence after explicit overrides.
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_USER = "local"
# secrets anyone can read (in this code, its history, or any tutorial): never sign with them
PUBLISHED_SECRETS = frozenset({
    "memlane-development-secret", "secret", "changeme", "change-me", "changethis",
    "your-secret-key", "jwt-secret", "supersecret", "development", "password"})
MIN_SECRET_CHARS = 32


def default_data_dir() -> Path:
    return Path(user_data_dir("memlane", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEMLANE_", extra="ignore")

    # where and how to serve
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8420
    auth_enabled: bool = False  # multi-user mode: every request needs a bearer API key
    log_level: str = "info"
    cors_origins: list[str] = []  # browser origins allowed to call the API, e.g. ["*"]
    mcp_allowed_hosts: list[str] = []  # more Host values /mcp accepts on a loopback bind
    # (behind a reverse proxy), e.g. ["memory.example.org"]
    rate_limit_per_minute: int = 100  # requests per API key (multi-user mode); 0 = off
    auth_failures_per_minute: int = 60  # refused credentials per client address; 0 = off
    jwt_secret: str | None = None  # signs tokens; default: a random one per data directory
    access_token_ttl_s: int = 900
    login_max_failures: int = 5  # wrong passwords for one user name before a lock-out; 0 = off
    login_max_failures_per_address: int = 20  # ... from one client address; 0 = off
    login_lockout_s: float = 300.0  # how long a lock-out lasts (and failures are counted)
    trusted_proxies: list[str] = []  # addresses whose X-Forwarded-For is believed
    refresh_token_ttl_s: int = 7 * 24 * 3600

    # seams, chosen by registry name
    store: str = "sqlite"  # "sqlite" (one file in data_dir) | "postgres" (database_url)
    database_url: str | None = None  # postgresql://user:pass@host:5432/db (store=postgres)
    database_pool_size: int = Field(10, ge=1)  # connections per replica
    job_lease_s: float = Field(60.0, gt=0)  # a job whose replica stopped renewing this long
    # (it died) is taken over by another replica
    embedder: str = "minilm"
    nlp: str = "spacy"
    llm: str = "local"  # "local" (llama.cpp, packaged model) | "remote" (OpenAI-compatible)
    model_threads: int = 2
    nlp_piece_chars: int = Field(1000, ge=100)  # a long text is parsed in pieces this long
    nlp_budget_s: float = 5.0  # NLP time per text; past it, sentences by pattern only

    # the LLM (SPEC G): local GGUF, or any OpenAI-compatible endpoint
    llm_model_path: Path | None = None  # any GGUF; default: the packaged Qwen2.5 1.5B
    llm_context: int = 4096  # tokens in the local model's window
    llm_max_tokens: int = 512
    llm_temperature: float = 0.2
    llm_base_url: str | None = None  # e.g. http://127.0.0.1:11434/v1 (Ollama)
    llm_api_key: str | None = None
    llm_remote_model: str = "memlane"
    llm_concurrency: int = 5  # remote calls in flight at once
    llm_retries: int = 4  # on 429 and 5xx, with exponential backoff
    llm_backoff_s: float = 0.5  # first wait; doubles each retry (or Retry-After)
    llm_timeout_s: float = 120.0

    # limits (bad input is refused with 413 / 422)
    max_body_bytes: int = 2_000_000
    max_text_chars: int = 50_000
    max_batch: int = 500
    max_search_limit: int = 100
    max_page_size: int = 500
    max_import_bytes: int = 2_000_000_000  # POST /api/import (streamed to a temp file)

    # ingest
    chunk_chars: int = 800
    chunk_overlap_chars: int = 150
    embed_batch_size: int = 64
    embed_cache_size: int = 2048
    default_confidence: float = 1.0
    max_entities_per_memory: int = Field(64, ge=1)  # names linked (and related) per memory

    # retrieval and ranking (SPEC B defaults)
    weight_keyword: float = 0.35
    weight_vector: float = 0.35  # SPEC 0.25; 0.35 measured better on LoCoMo dev
    weight_reliability: float = 0.20
    weight_recency: float = 0.15
    weight_frequency: float = 0.05
    weight_entity: float = 0.05  # names are weak evidence: "Thanks, Mel!" names Mel
    weight_time: float = 0.20  # in the query's time range ("in May 2023", "last week")
    adaptive_weights: bool = True
    fusion: Literal["weighted", "rrf"] = "weighted"  # scores, or reciprocal ranks
    rrf_k: int = 60
    time_mode: Literal["boost", "filter"] = "boost"  # for time words found in the query
    neighbour_decay: float = 0.8  # a neighbour scores at least this x its hit's score
    neighbour_window: int = 2  # memories either side of a top hit to lift; 0 = off
    neighbour_top: int = 5  # how many top hits lift their neighbours
    neighbour_max_gap_hours: float = 6.0
    index_context_keys: list[str] = ["speaker"]  # metadata indexed with the text
    link_context_entities: bool = False  # also link those values as entities
    record_access: bool = True
    recency_half_life_days: float = 30.0
    relevance_threshold: float = 0.25  # minimum cosine for a hit found by meaning alone
    strategy_limit: int = 50
    strategy_timeout_s: float = 5.0
    profile_limit: int = 10
    recent_limit: int = 10

    # answers and chat (SPEC C)
    answer_candidates: int = 20  # retrieved before budgets are applied
    answer_contexts: int = 8  # at most this many memories in a prompt
    answer_min_cosine: float = 0.35  # a memory grounds an answer by shared words or names,
    # or by meaning at least this close; with none, the answer is "I don't know"
    working_memory: int = 20  # last messages of a conversation kept in RAM
    session_idle_s: float = 3600.0  # a session expires after this idle time
    summarise_every: int = 20  # messages between summaries of the older part
    extraction_enabled: bool = True  # extract facts from chat turns and long texts
    extract_min_chars: int = 1000  # an ingested text this long gets extraction too
    agents_file: Path | None = None  # YAML agent configurations
    jobs_enabled: bool = True  # run background jobs in this process
    job_max_attempts: int = 3

    # analytics (SPEC G): one record per chat turn, answer, search and /v1 completion, kept
    # locally only; buffered, they are written at flush_records, every flush_s, at shutdown
    analytics_flush_records: int = Field(10, ge=1)
    analytics_flush_s: float = Field(10.0, gt=0)
    analytics_retention_days: float = 90.0  # a background job deletes older records
    analytics_prune_every_s: float = Field(24 * 3600.0, gt=0)  # how often it is considered
    llm_cost_per_1k_prompt: float = 0.0  # estimated cost per 1000 tokens, for a remote
    llm_cost_per_1k_completion: float = 0.0  # provider's prices (the local model is free)

    # voice (SPEC E): speech-to-text, voice activity, text-to-speech, all local
    voice_enabled: bool = True  # load the speech models at start (the /ws doors need them)
    stt: str = "whisper"  # faster-whisper with the packaged Whisper base (int8)
    vad: str = "silero"  # the Silero VAD that faster-whisper ships
    tts: str = "piper"  # piper with the packaged voice (optional extra: GPL-3.0)
    stt_beam_size: int = 1
    stt_window_s: float = Field(10.0, ge=5.0, le=30.0)  # shortest window Whisper encodes
    vad_threshold: float = 0.5
    utterance_silence_ms: int = 700  # this much silence after speech ends an utterance
    partial_every_s: float = 1.0  # a partial transcript per this much new speech
    max_utterance_s: float = 30.0  # a longer utterance is cut and finalised
    max_audio_s: float = 300.0  # audio buffered by one socket before it is refused
    ws_max_message_bytes: int = 1_000_000  # a bigger WebSocket message closes it (1009)

    # emotion (SPEC D)
    emotion: str = "embedding"  # text emotion from the embedder (labelled prototypes)
    emotion_prompt_confidence: float = 0.55  # above this, the chat prompt gets a section
    emotion_boost: float = 0.3  # matching emotion: relevance x (1 + importance x this)

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        secret = self.jwt_secret
        if secret is not None and (secret.strip().lower() in PUBLISHED_SECRETS
                                   or len(secret) < MIN_SECRET_CHARS):
            raise ValueError(
                f"MEMLANE_JWT_SECRET must be a random value of at least {MIN_SECRET_CHARS} "
                "characters that was never published; unset it to have one made in the "
                "data directory")
        return self

    @model_validator(mode="after")
    def _refuse_open_bind_without_auth(self) -> Settings:
        if not self.auth_enabled and not is_loopback(self.host):
            raise ValueError(
                f"refusing to serve on {self.host} without auth: set MEMLANE_AUTH_ENABLED=true "
                "(multi-user mode with API keys) or bind to 127.0.0.1")
        return self

    @model_validator(mode="after")
    def _postgres_needs_url(self) -> Settings:
        if self.store == "postgres" and not self.database_url:
            raise ValueError("MEMLANE_STORE=postgres needs MEMLANE_DATABASE_URL="
                             "postgresql://user:password@host:5432/database")
        return self

    @property
    def db_path(self) -> Path:
        return self.data_dir / "memlane.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def ranking_weights(self) -> dict[str, float]:
        return {"keyword": self.weight_keyword, "vector": self.weight_vector,
                "reliability": self.weight_reliability, "recency": self.weight_recency,
                "frequency": self.weight_frequency, "entity": self.weight_entity,
                "time": self.weight_time}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    """Build settings from overrides > environment > MEMLANE_CONFIG_FILE (TOML) > defaults."""
    file_values: dict[str, Any] = {}
    config_file = os.environ.get("MEMLANE_CONFIG_FILE")
    if config_file:
        with open(config_file, "rb") as fh:
            file_values = tomllib.load(fh)
    env_names = {k[len("MEMLANE_"):].lower() for k in os.environ if k.startswith("MEMLANE_")}
    merged = {k: v for k, v in file_values.items() if k not in env_names}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**merged)
