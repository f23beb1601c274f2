"""Named PostgreSQL migrations, applied once each and recorded in the ``migrations`` table
(as the SQLite ones are). Append new ones; never edit one that has shipped.

Times are epoch seconds (double precision, UTC), as in SQLite, so rows copy across as
they are; metadata and details are jsonb; chunk vectors are pgvector ``vector`` (any
dimension: searches are exact, per user, by a btree on user id).
"""
from __future__ import annotations

import time

import psycopg

# Porter-like stemming without a stop-word list (SQLite's FTS5 'porter unicode61' keeps
# "and", "not", ...: a search for them finds them here too).
M001_INITIAL = """
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TEXT SEARCH DICTIONARY memlane_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION memlane (COPY = english);
ALTER TEXT SEARCH CONFIGURATION memlane
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH memlane_stem;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_admin BOOLEAN NOT NULL DEFAULT false,
    created_at DOUBLE PRECISION NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT false,
    tokens_after DOUBLE PRECISION NOT NULL DEFAULT 0,
    password_hash TEXT
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at DOUBLE PRECISION NOT NULL,
    last_used_at DOUBLE PRECISION,
    revoked BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at DOUBLE PRECISION NOT NULL,
    used_at DOUBLE PRECISION
);

-- No foreign key to users: single-user mode owns memories without a users row.
-- seq: insertion order (SQLite's rowid), for neighbours().
CREATE TABLE memories (
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    occurred_at DOUBLE PRECISION,
    event_at DOUBLE PRECISION GENERATED ALWAYS AS (coalesce(occurred_at, created_at)) STORED,
    metadata JSONB NOT NULL DEFAULT '{}',
    importance DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    access_count INTEGER NOT NULL DEFAULT 0,
    last_accessed_at DOUBLE PRECISION,
    emotion TEXT,
    client_id TEXT,
    content_hash TEXT NOT NULL DEFAULT '',
    valid_until DOUBLE PRECISION
);
CREATE UNIQUE INDEX memories_client ON memories(user_id, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX memories_hash ON memories(user_id, content_hash);
CREATE INDEX memories_event ON memories(user_id, event_at);
CREATE INDEX memories_user_order ON memories(user_id, seq);
CREATE INDEX memories_type_event ON memories(user_id, type, event_at);

CREATE TABLE chunks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    memory_id TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vector vector,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('memlane'::regconfig, text)) STORED,
    UNIQUE (memory_id, idx)
);
CREATE INDEX chunks_user ON chunks(user_id, memory_id, idx);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

CREATE TABLE entities (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    norm_name TEXT NOT NULL,
    label TEXT NOT NULL,
    UNIQUE (user_id, norm_name)
);

CREATE TABLE memory_entities (
    memory_id TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    PRIMARY KEY (memory_id, entity_id)
);
CREATE INDEX memory_entities_entity ON memory_entities(entity_id);

-- Co-occurrence counts, stored both ways (a, b) and (b, a).
CREATE TABLE relations (
    user_id TEXT NOT NULL,
    a_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    b_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    weight INTEGER NOT NULL,
    PRIMARY KEY (a_id, b_id)
);
CREATE INDEX relations_user ON relations(user_id);

CREATE TABLE history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    old_text TEXT,
    new_text TEXT,
    actor TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX history_memory ON history(user_id, memory_id);
"""

M002_CHAT_AND_JOBS = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    persona TEXT,
    agent TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_user ON conversations(user_id, updated_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    emotion TEXT,
    importance DOUBLE PRECISION NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    vector BYTEA,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_user ON messages(user_id, created_at);

CREATE TABLE summaries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    upto_seq INTEGER NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX summaries_conversation ON summaries(conversation_id, upto_seq);

CREATE TABLE persona_chunks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vector BYTEA,
    UNIQUE (conversation_id, idx)
);

-- seq: insertion order among equal created_at (SQLite's rowid).
CREATE TABLE jobs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result JSONB,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    run_after DOUBLE PRECISION
);
CREATE INDEX jobs_status ON jobs(status, created_at, seq);
CREATE INDEX jobs_user ON jobs(user_id, created_at);

CREATE TABLE analytics (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    conversation_id TEXT,
    at DOUBLE PRECISION NOT NULL,
    phases JSONB NOT NULL,
    strategies JSONB NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX analytics_at ON analytics(at);
CREATE INDEX analytics_user ON analytics(user_id, at);
"""

# Small state every replica shares (rate-limit buckets, sign-in failures), with expiry.
M003_SHARED_STATE = """
CREATE TABLE shared_state (
    key TEXT PRIMARY KEY,
    value JSONB NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX shared_state_expiry ON shared_state(expires_at);
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_chat_and_jobs", M002_CHAT_AND_JOBS),
    ("m003_shared_state", M003_SHARED_STATE),
]
LOCK_ID = 0x6D656D6C  # one migrating process at a time (advisory lock)


async def apply_migrations(conn: psycopg.AsyncConnection) -> list[str]:
    """Apply pending migrations, each in its own transaction; the names applied now."""
    applied = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        await conn.execute("CREATE TABLE IF NOT EXISTS migrations ("
                           "name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
        done = {row[0] for row in await (await conn.execute(
            "SELECT name FROM migrations")).fetchall()}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO migrations (name, applied_at) VALUES (%s, %s)",
                               (name, time.time()))
            applied.append(name)
    return applied
