"""LoCoMo retrieval benchmark: ingest each conversation's turns as one fresh user's episodic
memories (through the same path as the REST API), ask every question with valid evidence,
and score recall@k of the evidence turns, for us and for two baselines (BM25 only, vectors
only) run on the same stored turns.

Honesty: only the turns (text, image caption, speaker, session date) are ingested; the
loader drops answers, question ids and the dataset's `observation`, `session_summary` and
`event_summary` before anything reaches the engine. Evidence ids are used only to score.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser
from tqdm import tqdm

from ..config import Settings, load_settings
from ..domain import MemoryFilter, MemoryType, Source
from ..engine import Engine
from ..schemas import MemoryCreate, SearchQuery
from . import locomo_report as report

TOP = 50  # every system returns its top 50; recall is read at KS
_SESSION = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D\d+:\d+")
_DATE_FORMAT = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"


# loading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    session: int
    text: str
    occurred_at: datetime | None


@dataclass(frozen=True)
class Question:
    text: str
    category: int
    evidence: tuple[str, ...]
    skip: str | None = None  # why it is not scored: no_evidence | malformed | not_in_conversation
    split: bool = False  # an evidence entry held several ids ("D8:6; D9:17")


@dataclass
class Conversation:
    sample_id: str
    turns: list[Turn]
    questions: list[Question]


def load_conversations(path: str | Path, limit: int | None = None,
                       questions: int | None = None) -> list[Conversation]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"LoCoMo data not found at {path}. The dataset (CC BY-NC 4.0) is never copied "
            "into the repository: put locomo-dev.json in ../shared/data/ (next to the repo).")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [_conversation(c, questions) for c in raw[:limit]]


def _conversation(raw: dict, max_questions: int | None) -> Conversation:
    turns = list(_turns(raw["conversation"]))
    known = {t.dia_id for t in turns}
    qa = raw.get("qa", [])[:max_questions]
    return Conversation(raw["sample_id"], turns, [_question(q, known) for q in qa])


def _turns(conv: dict) -> Iterator[Turn]:
    sessions = sorted((int(m.group(1)), key) for key in conv
                      if (m := _SESSION.fullmatch(key)) and isinstance(conv[key], list))
    for number, key in sessions:
        when = parse_session_time(conv.get(f"{key}_date_time"))
        for turn in conv[key]:
            text = turn_text(turn)
            if text:
                yield Turn(turn["dia_id"], turn.get("speaker", ""), number, text, when)


def turn_text(turn: dict) -> str:
    """What the speaker said, with the caption of an image they shared."""
    text = (turn.get("text") or "").strip()
    caption = (turn.get("blip_caption") or "").strip()
    return f"{text} [shared an image: {caption}]".strip() if caption else text


def parse_session_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.strptime(value.strip(), _DATE_FORMAT)
    except ValueError:
        parsed = dateparser.parse(value.replace(" on ", " "))
    return parsed.replace(tzinfo=UTC)


def _question(raw: dict, known: set[str]) -> Question:
    entries = [str(e) for e in raw.get("evidence") or []]
    parts = [[p for p in re.split(r"[;,\s]+", e) if p] for e in entries]
    ids = tuple(dict.fromkeys(p for group in parts for p in group))
    skip = None
    if not ids:
        skip = "no_evidence"
    elif not all(_DIA_ID.fullmatch(i) for i in ids):
        skip = "malformed"
    elif not all(i in known for i in ids):
        skip = "not_in_conversation"
    return Question(raw["question"], int(raw["category"]), ids, skip,
                    split=any(len(g) > 1 for g in parts))


# ingest ----------------------------------------------------------------------------------
@dataclass
class Ingested:
    user_id: str
    memory_of: dict[str, str]  # dia_id -> memory id (a deduplicated turn -> the existing one)
    created: int


async def ingest(engine: Engine, conv: Conversation, bar: tqdm | None = None) -> Ingested:
    user = await engine.accounts.create_user(f"locomo-{conv.sample_id}-{uuid.uuid4().hex[:6]}")
    done = Ingested(user.id, {}, 0)
    size = engine.settings.max_batch
    for _, session in groupby(conv.turns, key=lambda t: t.session):
        turns = list(session)
        for start in range(0, len(turns), size):
            part = turns[start:start + size]
            items = [_memory_create(conv.sample_id, t) for t in part]
            for turn, (memory, new) in zip(part, await engine.memories.add_many(user.id, items)):
                done.memory_of[turn.dia_id] = memory.id
                done.created += int(new)
            if bar is not None:
                bar.update(len(part))
    return done


def _memory_create(sample_id: str, turn: Turn) -> MemoryCreate:
    return MemoryCreate(text=turn.text, type=MemoryType.episodic, source=Source.chat,
                        occurred_at=turn.occurred_at, client_id=f"{sample_id}:{turn.dia_id}",
                        metadata={"dia_id": turn.dia_id, "speaker": turn.speaker,
                                  "session": turn.session})


# questions -------------------------------------------------------------------------------
@dataclass
class Answer:
    """One question's ranked memory ids and latency (ms) per system."""
    ranked: dict[str, list[str]] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    time_range: bool = False
    failed_strategies: list[str] = field(default_factory=list)


async def ask(engine: Engine, user_id: str, question: str) -> Answer:
    answer = Answer()
    start = time.perf_counter()
    outcome = await engine.search(user_id, SearchQuery(query=question, limit=TOP))
    answer.ranked["ours"] = [r.memory.id for r in outcome.results]
    answer.ms["ours"] = _ms_since(start)
    answer.time_range = outcome.analysis.time_range is not None
    answer.failed_strategies = [n for n, s in outcome.strategies.items()
                                if s.get("status") != "ok"]

    start = time.perf_counter()
    keywords = engine.retriever.analyse(question).keywords
    hits = await engine.store.keyword_search(user_id, keywords, MemoryFilter(), TOP)
    answer.ranked["keyword"] = [h.memory_id for h in hits]
    answer.ms["keyword"] = _ms_since(start)

    start = time.perf_counter()
    # models.embed, not embed_query: the same vector, but not served from the query cache
    # that our search just filled, so this baseline's latency is not flattered.
    vector = (await engine.models.embed([question]))[0]
    hits = await engine.store.vector_search(user_id, vector, MemoryFilter(), TOP)
    answer.ranked["vector"] = [h.memory_id for h in hits]
    answer.ms["vector"] = _ms_since(start)
    return answer


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def recall_at(ranked: list[str], targets: list[str], k: int) -> float:
    top = set(ranked[:k])
    return sum(t in top for t in targets) / len(targets)


def score(answer: Answer, targets: list[str]) -> dict[str, dict[int, float]]:
    return {system: {k: recall_at(ranked, targets, k) for k in report.KS}
            for system, ranked in answer.ranked.items()}


# the run ---------------------------------------------------------------------------------
async def evaluate(engine: Engine, conversations: list[Conversation], *,
                   progress: bool = False) -> dict[str, Any]:
    """Ingest every conversation into a started engine, then ask and score; the figures."""
    ingested, ingest_s = await _ingest_all(engine, conversations, progress)
    rows, answers = await _ask_all(engine, conversations, ingested, progress)
    questions = [q for c in conversations for q in c.questions]
    return report.summarise(conversations, questions, ingested, ingest_s, rows, answers)


async def _ingest_all(engine, conversations, progress) -> tuple[list[Ingested], float]:
    total = sum(len(c.turns) for c in conversations)
    start = time.perf_counter()
    with tqdm(total=total, desc="ingest", unit="turn", file=sys.stderr,
              disable=not progress) as bar:
        ingested = [await ingest(engine, c, bar) for c in conversations]
    return ingested, time.perf_counter() - start


async def _ask_all(engine, conversations, ingested, progress):
    rows: list[report.Row] = []
    answers: list[Answer] = []
    total = sum(1 for c in conversations for q in c.questions if q.skip is None)
    with tqdm(total=total, desc="questions", unit="q", file=sys.stderr,
              disable=not progress) as bar:
        for conv, done in zip(conversations, ingested):
            for q in (q for q in conv.questions if q.skip is None):
                answer = await ask(engine, done.user_id, q.text)
                targets = list(dict.fromkeys(done.memory_of[e] for e in q.evidence))
                rows.append(report.Row(q.category, score(answer, targets)))
                answers.append(answer)
                bar.update(1)
    return rows, answers


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`key=value` settings overrides, validated; unknown keys are refused, not ignored.
    A value starting with [ or { is JSON (`index_context_keys=[]`). Raises ValueError
    (pydantic's ValidationError and json's JSONDecodeError are ones)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in Settings.model_fields:
            raise ValueError(f"--set {pair!r}: expected key=value with a known setting key")
        if key == "data_dir":
            raise ValueError("--set data_dir: the benchmark always runs on a temporary directory")
        value = value.strip()
        out[key] = json.loads(value) if value.startswith(("[", "{")) else value  # list keys
    load_settings(**out, data_dir=tempfile.gettempdir())  # bad values fail here, not mid-run
    return out


async def run(path: str | Path, *, limit: int | None = None, questions: int | None = None,
              overrides: dict[str, Any] | None = None, progress: bool = True) -> dict[str, Any]:
    """The whole benchmark on a fresh engine in a temporary data directory: the report."""
    started, load_start = time.perf_counter(), os.getloadavg()
    source = report.git_state()  # at the start: the code that runs is the code imported now
    conversations = load_conversations(path, limit, questions)
    overrides = dict(overrides or {})
    with tempfile.TemporaryDirectory(prefix="memlane-locomo-") as tmp:
        settings = load_settings(**{"llm": "none", **overrides, "data_dir": tmp})
        engine = Engine.from_settings(settings)
        await engine.start()
        try:
            figures = await evaluate(engine, conversations, progress=progress)
            context = report.context(engine, overrides, load_start, source)
        finally:
            await engine.stop()
    return {**figures, "data_path": str(Path(path).resolve()),
            "total_seconds": round(time.perf_counter() - started, 1), **context}


def main(path: str | Path, *, limit: int | None = None, questions: int | None = None,
         overrides: dict[str, Any] | None = None, out: str | None = None,
         markdown: bool = False) -> dict[str, Any]:
    """What the script and the CLI do: run, print the JSON (and the markdown on stderr)."""
    result = asyncio.run(run(path, limit=limit, questions=questions, overrides=overrides))
    report.emit(result, out=out, markdown=markdown)
    return result
