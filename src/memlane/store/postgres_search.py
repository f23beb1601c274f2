"""Search primitives of the PostgreSQL store: full-text keyword search ranked by BM25,
exact per-user vector search (pgvector inner product over the user's chunks,
found by a btree on user id: no approximate index, so recall is 1.0), the entity graph."""
from __future__ import annotations

import json

import psycopg

from ..domain import Entity, Hit, MemoryFilter
from . import bm25
from .postgres_memories import fetch
from .postgres_rows import filter_sql
from .sqlite_rows import norm_name, now_ts, row_to_entity
from .sqlite_search import RELATED_LIMIT, unit_vector

Conn = psycopg.AsyncConnection


# keyword -----------------------------------------------------------------------------
# BM25 (bm25.py) over the user's own chunks, taken first by the btree on user id (a global
# full-text index made a common word cost every user's matches: 250 ms at 1M), each
# term's counts from the chunk's tsvector, document frequencies from those same chunks.


def ts_query(terms: list[str]) -> tuple[str, list[str]] | None:
    """Any term may match: plainto_tsquery of each (it parses no operators) joined by OR."""
    words = [t.replace("\x00", " ") for t in terms if any(ch.isalnum() for ch in t)]
    if not words:
        return None
    return " || ".join(["plainto_tsquery('memlane', %s)"] * len(words)), words


async def keyword_search(conn: Conn, user_id: str, terms: list[str], flt: MemoryFilter,
                         limit: int) -> list[Hit]:
    query = ts_query(terms)
    if query is None or limit <= 0:
        return []
    tsq, words = query
    where, params = filter_sql(flt)
    rows = await fetch(
        conn,
        f"WITH q AS (SELECT ({tsq}) AS q, ARRAY(SELECT DISTINCT unnest(tsvector_to_array("
        "to_tsvector('memlane', w))) FROM unnest(%s::text[]) w) AS lexemes), "
        "mine AS MATERIALIZED (SELECT id, memory_id, idx, tsv FROM chunks WHERE user_id = %s), "
        "stats AS (SELECT count(*) AS n, avg(length(tsv)) AS avgdl FROM mine) "
        "SELECT x.id, x.memory_id, x.idx, length(x.tsv) AS dl, t.lexeme, stats.n, "
        f"stats.avgdl, cardinality(t.positions) AS tf, ({where}) AS passes "
        "FROM mine x JOIN memories m ON m.id = x.memory_id CROSS JOIN q CROSS JOIN stats, "
        "unnest(x.tsv) t WHERE x.tsv @@ q.q AND t.lexeme = ANY(q.lexemes)",
        (*words, words, user_id, *params))
    if not rows:
        return []
    return _bm25(rows, rows[0]["n"], float(rows[0]["avgdl"] or 1.0), limit)


def _bm25(rows: list[dict], n: int, avgdl: float, limit: int) -> list[Hit]:
    df: dict[str, int] = {}
    for r in rows:
        df[r["lexeme"]] = df.get(r["lexeme"], 0) + 1  # one row per (chunk, lexeme)
    chunks: dict[int, list] = {}
    for r in rows:
        part = bm25.term_score(bm25.idf(n, df[r["lexeme"]]), r["tf"], max(r["dl"], 1), avgdl)
        entry = chunks.setdefault(r["id"], [r["memory_id"], r["idx"], 0.0, r["passes"]])
        entry[2] += part
    best: dict[str, tuple[float, int]] = {}
    for memory_id, idx, score, passes in chunks.values():
        if passes and (memory_id not in best or (score, -idx) > (best[memory_id][0],
                                                                   -best[memory_id][1])):
            best[memory_id] = (score, idx)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [Hit(mid, score, {"chunk": idx}) for mid, (score, idx) in ranked]


# vector ------------------------------------------------------------------------------
VECTOR_SCAN = 4  # best memories checked against the filter per hit asked for


async def vector_search(conn: Conn, user_id: str, vector, flt: MemoryFilter,
                        limit: int) -> list[Hit]:
    """Exact inner product (the vectors are unit length: cosine) with a unit query: every
    chunk of the user scored, each memory's best kept, and only the best ``VECTOR_SCAN`` x
    limit of them checked against the filter (a lookup per memory was most of the cost);
    all of them when too few of those pass."""
    q = unit_vector(vector)
    if q is None or limit <= 0:
        return []
    where, params = filter_sql(flt)
    best = ("WITH best AS (SELECT DISTINCT ON (memory_id) memory_id, idx, "
            "-(vector <#> %s) AS score FROM chunks WHERE user_id = %s AND vector_dims(vector) "
            "= %s ORDER BY memory_id, score DESC, idx) ")
    scan = VECTOR_SCAN * limit
    rows = await fetch(
        conn, best + ", top AS (SELECT * FROM best ORDER BY score DESC, memory_id LIMIT %s) "
        f"SELECT t.memory_id, t.idx, t.score, coalesce(m.id IS NOT NULL AND {where}, false) "
        "AS passes FROM top t LEFT JOIN memories m ON m.id = t.memory_id AND m.user_id = %s "
        "ORDER BY t.score DESC, t.memory_id", (q, user_id, q.size, scan, *params, user_id))
    passing = [r for r in rows if r["passes"]][:limit]
    if len(passing) < limit and len(rows) == scan:
        passing = await fetch(
            conn, best + "SELECT b.memory_id, b.idx, b.score FROM best b "
            f"JOIN memories m ON m.id = b.memory_id WHERE m.user_id = %s AND {where} "
            "ORDER BY b.score DESC, b.memory_id LIMIT %s",
            (q, user_id, q.size, user_id, *params, limit))
    return [Hit(r["memory_id"], float(r["score"]), {"chunk": r["idx"]}) for r in passing]


async def vector_scores(conn: Conn, user_id: str, vector,
                        memory_ids: list[str]) -> dict[str, float]:
    q = unit_vector(vector)
    if q is None or not memory_ids:
        return {}
    rows = await fetch(conn, "SELECT memory_id, max(-(vector <#> %s)) AS score FROM chunks "
                       "WHERE user_id = %s AND memory_id = ANY(%s) AND vector_dims(vector) "
                       "= %s GROUP BY memory_id", (q, user_id, list(memory_ids), q.size))
    return {r["memory_id"]: float(r["score"]) for r in rows}


# entities ----------------------------------------------------------------------------
async def entity_search(conn: Conn, user_id: str, names: list[str], flt: MemoryFilter,
                        limit: int, related: bool) -> list[Hit]:
    """As sqlite_search.entity_search: 1.0 per named entity a memory links, 0.5 x
    strength per related entity."""
    keys = list(dict.fromkeys(k for k in map(norm_name, names) if k))
    if not keys or limit <= 0:
        return []
    labels = {r["id"]: r["name"] for r in await fetch(
        conn, "SELECT id, name FROM entities WHERE user_id = %s AND norm_name = ANY(%s)",
        (user_id, keys))}
    if not labels:
        return []
    weights = dict.fromkeys(labels, 1.0)
    if related:
        for r in await _related(conn, user_id, list(labels)):
            weights[r["b_id"]], labels[r["b_id"]] = 0.5 * float(r["strength"]), r["name"]
    where, params = filter_sql(flt)
    ranked = await fetch(
        conn,
        "SELECT me.memory_id, sum(w.value::float8) AS score, max(w.value::float8) AS top "
        "FROM jsonb_each_text(%s::jsonb) w JOIN memory_entities me ON me.entity_id = w.key "
        f"JOIN memories m ON m.id = me.memory_id WHERE m.user_id = %s AND {where} "
        "GROUP BY me.memory_id, m.event_at ORDER BY score DESC, m.event_at DESC, "
        "me.memory_id LIMIT %s", (json.dumps(weights), user_id, *params, limit))
    linked = await _linked_names(conn, [r["memory_id"] for r in ranked], labels)
    return [Hit(r["memory_id"], float(r["score"]),
                {"entities": linked.get(r["memory_id"], []), "related": r["top"] < 1.0})
            for r in ranked]


async def _linked_names(conn: Conn, memory_ids: list[str],
                        labels: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    rows = await fetch(conn, "SELECT memory_id, entity_id FROM memory_entities WHERE "
                       "memory_id = ANY(%s) ORDER BY memory_id, pos", (memory_ids,))
    for r in rows:
        if r["entity_id"] in labels:
            out.setdefault(r["memory_id"], []).append(labels[r["entity_id"]])
    return out


async def _related(conn: Conn, user_id: str, entity_ids: list[str]) -> list[dict]:
    return await fetch(
        conn,
        "SELECT r.b_id, e.name, max(r.weight::float8 / (SELECT max(r2.weight) FROM "
        "relations r2 WHERE r2.a_id = r.a_id)) AS strength FROM relations r JOIN entities e "
        "ON e.id = r.b_id WHERE r.user_id = %s AND r.a_id = ANY(%s) AND NOT "
        "(r.b_id = ANY(%s)) GROUP BY r.b_id, e.name, e.norm_name "
        "ORDER BY strength DESC, e.norm_name LIMIT %s",
        (user_id, entity_ids, entity_ids, RELATED_LIMIT))


async def list_entities(conn: Conn, user_id: str, query: str | None, limit: int,
                        offset: int) -> list[Entity]:
    needle = norm_name(query or "")
    rows = await fetch(
        conn,
        "SELECT e.id, e.user_id, e.name, e.label, count(me.memory_id) AS memory_count "
        "FROM entities e LEFT JOIN memory_entities me ON me.entity_id = e.id "
        "WHERE e.user_id = %s AND strpos(e.norm_name, %s) > 0 GROUP BY e.id "
        "ORDER BY memory_count DESC, e.norm_name, e.id LIMIT %s OFFSET %s",
        (user_id, needle, max(limit, 0), max(offset, 0)))
    return [row_to_entity(r) for r in rows]


# neighbours --------------------------------------------------------------------------
SESSION = "coalesce(metadata ->> 'session', metadata ->> 'conversation_id')"
NEIGHBOUR_SCAN = 50  # rows looked at either side for the same session


async def neighbours(conn: Conn, user_id: str, memory_ids: list[str], window: int,
                     max_gap_s: float) -> dict[str, list[str]]:
    """As sqlite_search.neighbours, in insertion order (seq): every hit's both sides in one
    statement (a round trip per hit and side made a search wait on fifteen)."""
    sides = " UNION ALL ".join(
        f"SELECT t.id AS hit, {side} AS side, t.event_at AS at, n.seq, n.id, n.event_at "
        "FROM t LEFT JOIN LATERAL (SELECT seq, id, event_at FROM (SELECT seq, id, event_at, "
        f"metadata, valid_until FROM memories WHERE user_id = %(user)s AND seq {op} t.seq "
        f"ORDER BY seq {order} LIMIT %(scan)s) s WHERE {SESSION} = t.session AND "
        "(valid_until IS NULL OR valid_until > %(now)s) "
        f"ORDER BY seq {order} LIMIT %(window)s) n ON true"
        for side, op, order in ((0, "<", "DESC"), (1, ">", "ASC")))
    rows = await fetch(
        conn, f"WITH t AS MATERIALIZED (SELECT id, seq, event_at, {SESSION} AS session FROM "
        f"memories WHERE user_id = %(user)s AND id = ANY(%(ids)s)) {sides}",
        {"user": user_id, "ids": list(dict.fromkeys(memory_ids)), "scan": NEIGHBOUR_SCAN,
         "now": now_ts(), "window": window})
    found: dict[str, list[tuple]] = {}
    for r in rows:
        around = found.setdefault(r["hit"], [])
        if r["id"] is not None and abs(r["event_at"] - r["at"]) <= max_gap_s:
            around.append((r["side"], -r["seq"] if r["side"] == 0 else r["seq"], r["id"]))
    return {hit: [mid for *_, mid in sorted(around)] for hit, around in found.items()}
