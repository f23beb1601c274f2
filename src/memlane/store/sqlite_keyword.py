"""Keyword search of the SQLite store: BM25 over FTS5 with the searching user's own
statistics. FTS5's bm25() counts documents across the whole table (and scans each term's
whole index to do so), so on a shared database a name common in one user's memories but
rare elsewhere would score as a rare word, and a common word costs every user's matches.
When other users' chunks share the table, each term's matches among the user's own chunks
are read with their counts (highlight() marks each occurrence) and scored here, with the
user's document frequencies, as the PostgreSQL store does."""
from __future__ import annotations

import json
import re
import sqlite3

from ..domain import Hit, MemoryFilter
from . import bm25
from .sqlite_rows import filter_sql

KEYWORD_SCAN = 4  # best chunks looked at per keyword hit asked for, before filtering
MARK = "\x01"  # highlight() opens each occurrence with it
WORD = re.compile(r"[^\W_]+")  # a token of the unicode61 tokenizer, near enough for lengths


def owner_token(user_id: str) -> str:
    """The user's token in the FTS ``owner`` column; must equal the insert trigger's
    'u' || hex(user_id) || '0'. Hex survives the tokenizer; the trailing digit keeps the
    porter stemmer from folding two users' tokens together."""
    return "u" + user_id.encode().hex() + "0"


def phrases(terms: list[str]) -> list[str]:
    """Each term as a quoted FTS5 phrase, so operators in input are plain text."""
    return list(dict.fromkeys('"' + t.replace('"', '""').replace("\x00", " ") + '"'
                              for t in terms if any(ch.isalnum() for ch in t)))


def mine(user_id: str, text: str) -> str:
    return f'owner:"{owner_token(user_id)}" AND text:({text})'


def keyword_search(conn: sqlite3.Connection, user_id: str, terms: list[str],
                   flt: MemoryFilter, limit: int) -> list[Hit]:
    """The best-scoring chunks first (``KEYWORD_SCAN`` x limit of them), then the filter;
    all of them only when too few of those pass."""
    said = phrases(terms)
    if not said or limit <= 0:
        return []
    scan = KEYWORD_SCAN * limit
    ranked = _ranked(conn, user_id, said, scan)
    hits = _keyword_hits(conn, ranked, user_id, flt, limit)
    if len(hits) < limit and len(ranked) >= scan:
        hits = _keyword_hits(conn, _ranked(conn, user_id, said, -1), user_id, flt, limit)
    return hits


def _ranked(conn: sqlite3.Connection, user_id: str, said: list[str],
            scan: int) -> list[tuple[int, float]]:
    """The best ``scan`` (all when negative) of the user's matching chunks: (row, score)."""
    if _sole_owner(conn, user_id):  # FTS5's statistics are the user's
        return [tuple(r) for r in conn.execute(
            "SELECT rowid, -bm25(chunks_fts, 0.0, 1.0) AS score FROM chunks_fts WHERE "
            "chunks_fts MATCH ? ORDER BY score DESC LIMIT ?",
            (mine(user_id, " OR ".join(said)), scan))]
    own = conn.execute("SELECT count(*) FROM chunks WHERE user_id = ?", (user_id,)).fetchone()[0]
    table, words = table_stats(conn)
    scores = user_scores(conn, user_id, said, own, words / max(table, 1))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked if scan < 0 else ranked[:scan]


def _sole_owner(conn: sqlite3.Connection, user_id: str) -> bool:
    """Whether every chunk is the user's: the lowest and highest user ids by their index
    (two seeks, where counting the user's chunks reads all of them)."""
    low, high = conn.execute("SELECT (SELECT min(user_id) FROM chunks), "
                             "(SELECT max(user_id) FROM chunks)").fetchone()
    return low == high == user_id


def user_scores(conn: sqlite3.Connection, user_id: str, said: list[str], own: int,
                avgdl: float) -> dict[int, float]:
    """{chunk row: BM25} over the user's chunks matching any phrase: document frequencies
    among the user's ``own`` chunks, occurrences from highlight(), the table's mean length."""
    scores: dict[int, float] = {}
    for phrase in said:
        rows = conn.execute("SELECT rowid, highlight(chunks_fts, 1, char(1), '') FROM "
                            "chunks_fts WHERE chunks_fts MATCH ?",
                            (mine(user_id, phrase),)).fetchall()
        weight = bm25.idf(own, len(rows))
        for rowid, marked in rows:
            part = bm25.term_score(weight, max(marked.count(MARK), 1),
                                   len(WORD.findall(marked)), avgdl)
            scores[rowid] = scores.get(rowid, 0.0) + part
    return scores


def _keyword_hits(conn: sqlite3.Connection, ranked: list[tuple[int, float]], user_id: str,
                  flt: MemoryFilter, limit: int) -> list[Hit]:
    if not ranked:
        return []
    where, filters = filter_sql(flt)
    rows = conn.execute(
        "WITH hits AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS chunk_id, "
        "json_extract(value, '$[1]') AS score FROM json_each(?)) "
        "SELECT c.memory_id, max(h.score) AS score, c.idx FROM hits h "
        "JOIN chunks c ON c.id = h.chunk_id JOIN memories m ON m.id = c.memory_id "
        f"WHERE +m.user_id = ? AND {where} GROUP BY c.memory_id "
        "ORDER BY score DESC, c.memory_id LIMIT ?",
        (json.dumps(ranked), user_id, *filters, limit))
    return [Hit(mid, score, {"chunk": idx}) for mid, score, idx in rows]


def table_stats(conn: sqlite3.Connection) -> tuple[int, int]:
    """(rows, tokens of the text column) as FTS5's bm25() reads them: its averages record
    holds varints, the row count, then each column's token total (owner, text)."""
    row = conn.execute("SELECT block FROM chunks_fts_data WHERE id = 1").fetchone()
    values, data = [], bytes(row[0]) if row and row[0] else b""
    while data and len(values) < 3:
        value, used = _varint(data)
        values.append(value)
        data = data[used:]
    return (values + [0, 0, 0])[0], (values + [0, 0, 0])[2]


def _varint(data: bytes) -> tuple[int, int]:
    """SQLite's varint (big-endian 7-bit groups, the ninth byte whole): value, bytes used."""
    value = 0
    for i, byte in enumerate(data[:9]):
        if i == 8:
            return (value << 8) | byte, 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i + 1
    return value, len(data)
