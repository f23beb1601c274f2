"""Keyword search of the SQLite store: BM25 over FTS5 with the searching user's own
statistics. FTS5's bm25() counts documents across the whole table, so on a shared database
a name common in one user's memories but rare elsewhere would score as a rare word; each
term's score is therefore rescaled by idf(user) / idf(table), which makes the ranking the
one the user's chunks alone would give (as the PostgreSQL store computes it)."""
from __future__ import annotations

import math
import sqlite3
import threading

from ..domain import Hit, MemoryFilter
from .sqlite_rows import filter_sql

KEYWORD_SCAN = 4  # best chunks looked at per keyword hit asked for, before filtering
MIN_IDF = 1e-6    # FTS5's floor for a term in more than half of the documents
DRIFT = 0.01      # a table count is reused until the table's size changes by more than this


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


def idf(n: int, df: int) -> float:
    return max(MIN_IDF, math.log((n - df + 0.5) / (df + 0.5)))


class TableCounts:
    """How many chunks of the whole table hold each phrase: a scan of the phrase's entire
    index, so kept until the table grows or shrinks by more than ``DRIFT``."""

    def __init__(self, max_entries: int = 4096):
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._max = max_entries

    def get(self, conn: sqlite3.Connection, phrase: str, rows: int) -> int:
        with self._lock:
            held = self._counts.get(phrase)
        if held is not None and abs(held[1] - rows) <= DRIFT * rows:
            return held[0]
        count = _count(conn, f"text:{phrase}")
        with self._lock:
            if len(self._counts) >= self._max:
                self._counts.clear()
            self._counts[phrase] = (count, rows)
        return count

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def keyword_search(conn: sqlite3.Connection, counts: TableCounts, user_id: str,
                   terms: list[str], flt: MemoryFilter, limit: int) -> list[Hit]:
    """The best-scoring chunks first (``KEYWORD_SCAN`` x limit of them), then the filter;
    all of them only when too few of those pass."""
    said = phrases(terms)
    if not said or limit <= 0:
        return []
    scored = _scoring(conn, counts, user_id, said)
    scan = KEYWORD_SCAN * limit
    hits = _keyword_hits(conn, scored, user_id, flt, limit, scan)
    if len(hits) < limit and _count(conn, mine(user_id, " OR ".join(said)), scan + 1) > scan:
        hits = _keyword_hits(conn, scored, user_id, flt, limit, -1)
    return hits


def _scoring(conn: sqlite3.Connection, counts: TableCounts, user_id: str,
             said: list[str]) -> tuple[str, list]:
    """SQL selecting (chunk_id, score) of the user's matching chunks, and its parameters:
    one bm25() over all terms when the user holds the whole table (the statistics agree),
    else each term's bm25() weighted by idf(user) / idf(table) and summed."""
    table = table_rows(conn)
    own = conn.execute("SELECT count(*) FROM chunks WHERE user_id = ?", (user_id,)).fetchone()[0]
    if own >= table:
        return ("SELECT rowid AS chunk_id, -bm25(chunks_fts, 0.0, 1.0) AS score FROM chunks_fts "
                "WHERE chunks_fts MATCH ?", [mine(user_id, " OR ".join(said))])
    parts, params = [], []
    for phrase in said:
        df = _count(conn, mine(user_id, phrase))
        if df:
            weight = idf(own, df) / idf(table, counts.get(conn, phrase, table))
            # LIMIT -1 keeps SQLite from flattening bm25() into the aggregate
            parts.append("SELECT * FROM (SELECT rowid AS chunk_id, -bm25(chunks_fts, 0.0, 1.0) "
                         "* ? AS score FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT -1)")
            params += [weight, mine(user_id, phrase)]
    if not parts:
        return "SELECT 0 AS chunk_id, 0.0 AS score WHERE 0", []
    return (f"SELECT chunk_id, sum(score) AS score FROM ({' UNION ALL '.join(parts)}) "
            "GROUP BY chunk_id", params)


def _keyword_hits(conn: sqlite3.Connection, scored: tuple[str, list], user_id: str,
                  flt: MemoryFilter, limit: int, scan: int) -> list[Hit]:
    sql, params = scored
    where, filters = filter_sql(flt)
    rows = conn.execute(
        f"WITH hits AS MATERIALIZED ({sql} ORDER BY score DESC LIMIT ?) "
        "SELECT c.memory_id, max(h.score) AS score, c.idx FROM hits h "
        "JOIN chunks c ON c.id = h.chunk_id JOIN memories m ON m.id = c.memory_id "
        f"WHERE +m.user_id = ? AND {where} GROUP BY c.memory_id "
        "ORDER BY score DESC, c.memory_id LIMIT ?",
        (*params, scan, user_id, *filters, limit))
    return [Hit(mid, score, {"chunk": idx}) for mid, score, idx in rows]


def _count(conn: sqlite3.Connection, query: str, most: int = -1) -> int:
    """How many chunks match, counting up to ``most`` (all when negative)."""
    return conn.execute("SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts "
                        "MATCH ? LIMIT ?)", (query, most)).fetchone()[0]


def table_rows(conn: sqlite3.Connection) -> int:
    """The row count FTS5's bm25() uses: the first varint of its averages record."""
    row = conn.execute("SELECT block FROM chunks_fts_data WHERE id = 1").fetchone()
    return _varint(row[0]) if row and row[0] else 0


def _varint(data: bytes) -> int:
    """SQLite's varint: big-endian 7-bit groups, the ninth byte whole."""
    value = 0
    for i, byte in enumerate(data[:9]):
        if i == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value
    return value
