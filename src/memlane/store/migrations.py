"""Named SQLite migrations, applied once each and recorded in the ``migrations`` table.

Append new migrations to ``MIGRATIONS`` (``m002_...``); never edit one that has shipped.
Times are stored as epoch seconds (REAL, UTC); metadata and details as JSON text.
"""
from __future__ import annotations

import sqlite3
import time

M001_INITIAL = """
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys(user_id);

-- No foreign key to users: single-user mode owns memories without a users row.
CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    occurred_at REAL,
    event_at REAL GENERATED ALWAYS AS (coalesce(occurred_at, created_at)) VIRTUAL,
    metadata TEXT NOT NULL DEFAULT '{}',
    importance REAL NOT NULL,
    confidence REAL NOT NULL,
    access_count INTEGER NOT NULL DEFAULT 0,
    last_accessed_at REAL,
    emotion TEXT,
    client_id TEXT,
    content_hash TEXT NOT NULL DEFAULT '',
    valid_until REAL
);
CREATE UNIQUE INDEX memories_client ON memories(user_id, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX memories_hash ON memories(user_id, content_hash);
CREATE INDEX memories_event ON memories(user_id, event_at);

CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    memory_id TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vector BLOB,
    UNIQUE (memory_id, idx)
);
CREATE INDEX chunks_user ON chunks(user_id, memory_id, idx);

-- owner holds one token per user (see sqlite_keyword.owner_token), weighted 0 in bm25().
CREATE VIRTUAL TABLE chunks_fts USING fts5(owner, text, tokenize = 'porter unicode61');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, owner, text)
    VALUES (new.id, 'u' || hex(new.user_id) || '0', new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;

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
) WITHOUT ROWID;
CREATE INDEX memory_entities_entity ON memory_entities(entity_id);

-- Co-occurrence counts, stored both ways (a, b) and (b, a).
CREATE TABLE relations (
    user_id TEXT NOT NULL,
    a_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    b_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    weight INTEGER NOT NULL,
    PRIMARY KEY (a_id, b_id)
) WITHOUT ROWID;
CREATE INDEX relations_user ON relations(user_id);

CREATE TABLE history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    old_text TEXT,
    new_text TEXT,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX history_memory ON history(user_id, memory_id);

-- Bumped by every write that changes a user's searchable content (cache validation).
CREATE TABLE user_versions (
    user_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
"""

# Insertion order per user (rowid within equal keys), for neighbours().
M002_USER_ORDER = "CREATE INDEX memories_user_order ON memories(user_id);"

# Chat sessions and durable jobs. No foreign key to users (single-user mode, as memories);
# messages, summaries and persona chunks cascade with their conversation.
M003_CHAT_AND_JOBS = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    persona TEXT,
    agent TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_user ON conversations(user_id, updated_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    emotion TEXT,
    importance REAL NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    vector BLOB,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE summaries (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    upto_seq INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX summaries_conversation ON summaries(conversation_id, upto_seq);

CREATE TABLE persona_chunks (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vector BLOB,
    UNIQUE (conversation_id, idx)
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    run_after REAL
);
-- claim_job: equality on status, then the oldest first (run_after is checked per row).
CREATE INDEX jobs_status ON jobs(status, created_at);
CREATE INDEX jobs_user ON jobs(user_id, created_at);
"""

M004_REFRESH_TOKENS = """
CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at REAL NOT NULL,
    used_at REAL
);
"""

# disabled users fail authentication; access tokens issued before tokens_after are revoked;
# password_hash is "scrypt$n$r$p$salt$hash" (hex) or NULL for key-only users.
M005_USER_STATE = """
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tokens_after REAL NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_hash TEXT;
"""

# One row per timed pipeline run (chat turn, ask, search): phases and strategy hits as JSON.
M006_ANALYTICS = """
CREATE TABLE analytics (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    conversation_id TEXT,
    at REAL NOT NULL,
    phases TEXT NOT NULL,
    strategies TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0
);
CREATE INDEX analytics_at ON analytics(at);
CREATE INDEX analytics_user ON analytics(user_id, at);
"""
# the newest memories of a type (the profile and recent strategies of every search)
M007_TYPE_ORDER = "CREATE INDEX memories_type_event ON memories(user_id, type, event_at);"
# bumped when a user's chunks are changed or removed (not when added): a cache of their
# vectors can then take in only the new rows
M008_VERSIONS_REMOVED = ("ALTER TABLE user_versions ADD COLUMN removed INTEGER NOT NULL "
                         "DEFAULT 0;")

# Small state with an expiry (the PostgreSQL store shares rate limits through it).
M009_SHARED_STATE = """
CREATE TABLE shared_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_user_order", M002_USER_ORDER),
    ("m003_chat_and_jobs", M003_CHAT_AND_JOBS),
    ("m004_refresh_tokens", M004_REFRESH_TOKENS),
    ("m005_user_state", M005_USER_STATE),
    ("m006_analytics", M006_ANALYTICS),
    ("m007_type_order", M007_TYPE_ORDER),
    ("m008_versions_removed", M008_VERSIONS_REMOVED),
    ("m009_shared_state", M009_SHARED_STATE),
]


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies stay whole)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement: {buf.strip()[:80]}")
    return statements


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; the caller holds the write transaction.
    Returns the names applied now."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations ("
                 "name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        for statement in split_statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                     (name, time.time()))
        applied.append(name)
    return applied
