"""BM25 as SQLite's FTS5 computes it (k1 1.2, b 0.75, idf floored at 1e-6), for the stores
that score keyword matches with a user's own statistics."""
from __future__ import annotations

import math

K1, B, MIN_IDF = 1.2, 0.75, 1e-6


def idf(n: int, df: int) -> float:
    """A term held by ``df`` of ``n`` documents."""
    return max(MIN_IDF, math.log((n - df + 0.5) / (df + 0.5)))


def term_score(idf_: float, tf: int, dl: int, avgdl: float) -> float:
    """One term's part of a document's score: ``tf`` occurrences in ``dl`` tokens."""
    norm = K1 * (1 - B + B * dl / max(avgdl, 1e-9))
    return idf_ * tf * (K1 + 1) / (tf + norm)
