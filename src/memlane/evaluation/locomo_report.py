"""LoCoMo benchmark figures: recall aggregation, latency percentiles, machine state, the
published anchor, and the JSON / markdown output."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..engine import Engine
    from .locomo import Answer, Conversation, Ingested, Question

KS = (5, 10, 25, 50)
SYSTEMS = ("ours", "keyword", "vector")
SYSTEM_LABELS = {"ours": "memlane (hybrid)", "keyword": "keyword only (BM25)",
                 "vector": "vector only (MiniLM)", "anchor": "DRAGON (published)"}
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop",
              5: "adversarial"}
# LoCoMo paper, Table 3: DRAGON dense retriever, turn-level units (percent).
ANCHOR = {
    "name": "DRAGON, LoCoMo paper (Maharana et al., ACL 2024) Table 3, turn-level",
    "overall": {5: 56.7, 10: 66.2, 25: 76.7, 50: 82.7},
    "by_category": {
        "single-hop": {5: 68.0, 10: 77.7, 25: 87.1, 50: 91.1},
        "multi-hop": {5: 35.4, 10: 46.6, 25: 62.5, 50: 73.0},
        "temporal": {5: 70.4, 10: 77.3, 25: 83.5, 50: 89.6},
        "open-domain": {5: 33.1, 10: 40.8, 25: 52.6, 50: 61.7},
        "adversarial": {5: 43.9, 10: 54.7, 25: 66.3, 50: 72.5},
    },
}
# every setting is reported except these, which cannot change a figure
SETTINGS_NOT_REPORTED = {"data_dir", "host", "port", "auth_enabled", "log_level",
                         "max_body_bytes", "max_text_chars", "max_page_size",
                         "llm_api_key", "database_url"}  # never print a secret (a URL
# may hold a password)


@dataclass
class Row:
    """One scored question: its category and recall per system per k (0..1)."""
    category: int
    recall: dict[str, dict[int, float]]


def _at(values: dict[int, float]) -> dict[str, float]:
    return {f"@{k}": v for k, v in values.items()}


def _mean_recall(rows: list[Row], system: str) -> dict[str, float | None]:
    if not rows:
        return {f"@{k}": None for k in KS}
    return _at({k: round(100 * float(np.mean([r.recall[system][k] for r in rows])), 1)
                for k in KS})


def recall_table(rows: list[Row]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for system in SYSTEMS:
        by_cat = {name: _mean_recall([r for r in rows if r.category == c], system)
                  for c, name in CATEGORIES.items()}
        out[system] = {"overall": _mean_recall(rows, system), "by_category": by_cat}
    return out


def _latency(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "mean": None}
    arr = np.asarray(values)
    return {"p50": round(float(np.percentile(arr, 50)), 1),
            "p95": round(float(np.percentile(arr, 95)), 1),
            "mean": round(float(arr.mean()), 1)}


def _question_counts(questions: list[Question], rows: list[Row]) -> dict[str, Any]:
    reasons = Counter(q.skip for q in questions if q.skip)
    scored = Counter(CATEGORIES.get(r.category, str(r.category)) for r in rows)
    return {"total": len(questions), "scored": len(rows), "skipped": sum(reasons.values()),
            "skipped_by_reason": dict(sorted(reasons.items())),
            "evidence_entries_split": sum(q.split for q in questions),
            "scored_by_category": {name: scored.get(name, 0) for name in CATEGORIES.values()}}


def summarise(conversations: list[Conversation], questions: list[Question],
              ingested: list[Ingested], ingest_s: float, rows: list[Row],
              answers: list[Answer]) -> dict[str, Any]:
    turns = sum(len(c.turns) for c in conversations)
    created = sum(i.created for i in ingested)
    failed = Counter(name for a in answers for name in a.failed_strategies)
    return {
        "benchmark": "locomo-retrieval",
        "unit": "recall@k in percent: mean over questions of the fraction of evidence turns "
                "among a system's top k",
        "conversations": [c.sample_id for c in conversations],
        "questions": _question_counts(questions, rows),
        "recall": recall_table(rows),
        "anchor": {"name": ANCHOR["name"], "overall": _at(ANCHOR["overall"]),
                   "by_category": {n: _at(v) for n, v in ANCHOR["by_category"].items()}},
        "ingest": {"turns": turns, "memories_created": created,
                   "deduplicated": turns - created, "seconds": round(ingest_s, 2),
                   "memories_per_s": round(turns / ingest_s, 1) if ingest_s else None},
        "search_ms": {s: _latency([a.ms[s] for a in answers]) for s in SYSTEMS},
        "diagnostics": {
            "ours_questions_with_time_range": sum(a.time_range for a in answers),
            "ours_questions_with_no_results": sum(not a.ranked["ours"] for a in answers),
            "ours_failed_strategies": dict(failed)},
    }


def context(engine: Engine, overrides: dict[str, Any], load_start: tuple[float, float, float],
            source: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = engine.settings
    return {
        "machine": {"cpu_count": os.cpu_count(),
                    "load_average_start": [round(x, 2) for x in load_start],
                    "load_average_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "platform": platform.platform(),
                    "memlane": _memlane_version(), "source": source},
        "models": {**engine.models.info(), "warm_up_s": engine.models.warm},
        "settings": settings.model_dump(mode="json", exclude=SETTINGS_NOT_REPORTED),
        "overrides": overrides,
    }


def _memlane_version() -> str:
    try:
        return version("memlane")
    except PackageNotFoundError:
        return "unknown"


def git_state() -> dict[str, Any] | None:
    """The checkout measured: commit and files changed since (None outside a checkout)."""
    repo = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5, check=True)
        status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"],
                                capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    return {"commit": head.stdout.strip(), "changed_files": changed}


# output ----------------------------------------------------------------------------------
def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown_table(result: dict[str, Any]) -> str:
    recall, anchor = result["recall"], result["anchor"]
    q = result["questions"]
    title = (f"LoCoMo retrieval, {len(result['conversations'])} conversations, "
             f"{q['scored']} questions scored ({q['skipped']} skipped for bad evidence)")
    lines = [title, "",
             "| k | " + " | ".join(SYSTEM_LABELS[s] for s in (*SYSTEMS, "anchor")) + " |",
             "|---|" + "---|" * (len(SYSTEMS) + 1)]
    for k in KS:
        cells = [recall[s]["overall"][f"@{k}"] for s in SYSTEMS] + [anchor["overall"][f"@{k}"]]
        lines.append(f"| {k} | " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "| category (n) | system | " + " | ".join(f"@{k}" for k in KS) + " |",
              "|---|---|" + "---|" * len(KS)]
    for name in CATEGORIES.values():
        n = q["scored_by_category"].get(name, 0)
        for s in (*SYSTEMS, "anchor"):
            values = (anchor if s == "anchor" else recall[s])["by_category"][name]
            lines.append(f"| {name} ({n}) | {SYSTEM_LABELS[s]} | "
                         + " | ".join(_cell(values[f"@{k}"]) for k in KS) + " |")
    ms, ing = result["search_ms"], result["ingest"]
    lines += ["", "search ms p50/p95: " + ", ".join(
        f"{s} {ms[s]['p50']}/{ms[s]['p95']}" for s in SYSTEMS)
        + f"; ingest {ing['memories_per_s']} memories/s; total {result['total_seconds']} s"]
    return "\n".join(lines)


def emit(result: dict[str, Any], *, out: str | None = None, markdown: bool = False) -> None:
    """The JSON on stdout (and in `out`); the markdown table on stderr when asked."""
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    if markdown:
        print(markdown_table(result), file=sys.stderr)
