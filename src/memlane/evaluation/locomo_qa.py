"""LoCoMo answer quality: the official answer scoring, a fixed stratified sample of questions
and a runner asking them through `engine.asker.ask` after ingesting each conversation.

Scoring as in snap-research/LoCoMo `task_eval/evaluation.py`: normalise (drop commas,
lower-case, drop punctuation and the words a/an/the/and, collapse whitespace), Porter-stem
(NLTK's default PorterStemmer, rewritten: no nltk needed); token F1 for categories 2-4 (3:
gold before any ';'); category 1: both split on ',', per gold part its best F1, averaged;
category 5: correct when the output says 'no information available' or 'not mentioned' (we
also count our "I don't know"; the official-only figure is kept). Citations [2] are removed.
"""
from __future__ import annotations

import json
import os
import random
import re
import string
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..chat.events import Contexts, Done
from ..engine import Engine
from . import locomo
from .locomo_report import CATEGORIES

SEED = 20240811


# Porter stemmer, NLTK_EXTENSIONS mode (what `nltk.stem.PorterStemmer()` does) -----------
_IRREGULAR = {"skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie",
              "news": "news", "innings": "inning", "inning": "inning", "outings": "outing",
              "outing": "outing", "cannings": "canning", "canning": "canning",
              "howe": "howe", "proceed": "proceed", "exceed": "exceed", "succeed": "succeed"}
_STEP2 = [("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
          ("izer", "ize"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
          ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
          ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
          ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("fulli", "ful")]
_STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
          ("ful", ""), ("ness", "")]
_STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
          "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize"]


def _cons(w: str, i: int) -> bool:
    return w[i] not in "aeiou" and (w[i] != "y" or i == 0 or not _cons(w, i - 1))


def _m(stem: str) -> int:
    """Porter's measure: the number of vowel-consonant sequences."""
    return "".join("c" if _cons(stem, i) else "v" for i in range(len(stem))).count("vc")


def _cvc(w: str) -> bool:
    if len(w) >= 3:
        return (_cons(w, len(w) - 3) and not _cons(w, len(w) - 2) and _cons(w, len(w) - 1)
                and w[-1] not in "wxy")
    return len(w) == 2 and not _cons(w, 0) and _cons(w, 1)


def _rules(w: str, rules: list) -> str:
    """The first rule whose suffix matches decides: applied if its condition holds."""
    for suffix, replacement, condition in rules:  # "*d": a double consonant
        double = suffix == "*d" and len(w) >= 2 and w[-1] == w[-2] and _cons(w, len(w) - 1)
        if double or (suffix != "*d" and w.endswith(suffix)):
            stem = w[:-2] if double else w[:len(w) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else w
    return w


def _step1b(w: str) -> str:
    if w.endswith("ied"):
        return w[:-3] + ("ie" if len(w) == 4 else "i")
    if w.endswith("eed"):
        return w[:-1] if _m(w[:-3]) > 0 else w
    for suffix in ("ed", "ing"):
        stem = w[:-len(suffix)]
        if w.endswith(suffix) and any(not _cons(stem, i) for i in range(len(stem))):
            break
    else:
        return w
    return _rules(stem, [("at", "ate", None), ("bl", "ble", None), ("iz", "ize", None),
                         ("*d", stem[-1], lambda _: stem[-1] not in "lsz"),
                         ("", "e", lambda s: _m(s) == 1 and _cvc(s))])


def _step2(w: str) -> str:
    if w.endswith("alli") and _m(w[:-4]) > 0:
        return _step2(w[:-4] + "al")
    rules = [(s, r, lambda t: _m(t) > 0) for s, r in _STEP2]
    return _rules(w, [*rules, ("logi", "log", lambda _: _m(w[:-3]) > 0)])


def porter_stem(word: str) -> str:
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 2:
        return w
    w = w[:-1] if w.endswith("ies") and len(w) == 4 else _rules(
        w, [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)])
    w = _step1b(w)
    w = _rules(w, [("y", "i", lambda s: len(s) > 1 and _cons(s, len(s) - 1))])
    w = _step2(w)
    w = _rules(w, [(s, r, lambda t: _m(t) > 0) for s, r in _STEP3])
    w = _rules(w, [(s, "", lambda t: _m(t) > 1 and t[-1] in "st") if s == "ion"
                   else (s, "", lambda t: _m(t) > 1) for s in _STEP4])
    if w.endswith("e") and (_m(w[:-1]) > 1 or (_m(w[:-1]) == 1 and not _cvc(w[:-1]))):
        w = w[:-1]
    if w.endswith("ll") and _m(w[:-1]) > 1:
        w = w[:-1]
    return w


# scoring ---------------------------------------------------------------------------------
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_DONT_KNOW = re.compile(r"\bi (?:don[’']?t|do not) know\b")


def normalise(text: str) -> str:
    text = text.replace(",", "").lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(prediction: str, gold: str) -> float:
    predicted, wanted = ([porter_stem(w) for w in normalise(t).split()]
                         for t in (prediction, gold))
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def f1_multi(prediction: str, gold: str) -> float:
    """Category 1: each comma-separated gold part scored by its best predicted part."""
    parts = [p.strip() for p in prediction.split(",")]
    golds = [g.strip() for g in gold.split(",")]
    return sum(max(f1_score(p, g) for p in parts) for g in golds) / len(golds)


def official_unavailable(prediction: str) -> bool:
    return any(p in prediction.lower() for p in ("no information available", "not mentioned"))


def says_unavailable(prediction: str) -> bool:
    """The official phrases, or our own don't-know answer ("I don't know")."""
    return official_unavailable(prediction) or bool(_DONT_KNOW.search(prediction.lower()))


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text).strip()


def score(category: int, prediction: str, gold: str) -> float:
    """One question's score in 0..1, as the official evaluation computes it."""
    if category == 5:
        return float(says_unavailable(prediction))
    if category == 1:
        return f1_multi(prediction, gold)
    if category == 3:
        gold = gold.split(";")[0].strip()
    return f1_score(prediction, gold)


# the sample ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    conversation: str
    index: int  # position in the conversation's qa list
    question: str
    category: int
    gold: str  # the adversarial answer for category 5 (not used to score)


def load_items(path: str | Path) -> list[Item]:
    """Every question with its gold answer (the retrieval loader drops answers)."""
    return [Item(conv["sample_id"], i, qa["question"], int(qa["category"]), str(gold))
            for conv in json.loads(Path(path).read_text(encoding="utf-8"))
            for i, qa in enumerate(conv.get("qa", []))
            if (gold := qa.get("answer", qa.get("adversarial_answer"))) is not None]


def stratified_sample(items: list[Item], n: int, seed: int = SEED) -> list[Item]:
    """n questions, each (conversation, category) stratum in proportion to its size (at
    least one each), drawn with a per-stratum seed: the same sample on every run."""
    strata: dict[tuple[str, int], list[Item]] = defaultdict(list)
    for item in items:
        strata[(item.conversation, item.category)].append(item)
    n = min(n, len(items))
    quota = {k: n * len(v) / len(items) for k, v in strata.items()}
    take = {k: int(q) for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: (take[k] - quota[k], k))[:n - sum(take.values())]:
        take[k] += 1
    for k in [k for k, t in take.items() if t == 0]:
        take[max(take, key=lambda j: (take[j], j))] -= 1
        take[k] = 1
    chosen = [item for k, members in strata.items()
              for item in random.Random(f"{seed}:{k[0]}:{k[1]}").sample(members, take[k])]
    order = {c: i for i, c in enumerate(dict.fromkeys(i.conversation for i in items))}
    return sorted(chosen, key=lambda i: (order[i.conversation], i.index))


# the run ---------------------------------------------------------------------------------
@dataclass
class Record:
    item: Item
    answer: str
    score: float  # citation markers removed first
    prompt_tokens: int  # 0: nothing relevant was found, "I don't know" without the LLM
    contexts: int
    latency_ms: float
    first_token_ms: float | None


async def answer_all(engine: Engine, conversations: list[locomo.Conversation],
                     items: list[Item], *, max_tokens: int, progress: bool = True
                     ) -> list[Record]:
    """Ingest each conversation once (its own user), then ask its sampled questions with
    `now` one hour after its last session."""
    records = []
    with tqdm(total=len(items), desc="questions", unit="q", file=sys.stderr,
              disable=not progress) as bar:
        for conv in conversations:
            if mine := [i for i in items if i.conversation == conv.sample_id]:
                bar.set_postfix_str(f"ingesting {conv.sample_id}")
                user_id = (await locomo.ingest(engine, conv)).user_id
                now = max(t.occurred_at for t in conv.turns if t.occurred_at) + timedelta(hours=1)
                bar.set_postfix_str(conv.sample_id)
                for item in mine:
                    records.append(await ask_one(engine, user_id, item, now, max_tokens))
                    bar.update(1)
    return records


async def ask_one(engine: Engine, user_id: str, item: Item, now, max_tokens: int) -> Record:
    start, done, contexts = time.perf_counter(), None, 0
    async for event in engine.asker.ask(user_id, item.question, max_tokens=max_tokens,
                                        now=now):
        if isinstance(event, Contexts):
            contexts = len(event.items)
        elif isinstance(event, Done):
            done = event
    assert done is not None
    ms = round((time.perf_counter() - start) * 1000, 1)
    return Record(item, done.answer, score(item.category, strip_citations(done.answer),
                  item.gold), done.usage.prompt_tokens, contexts, ms,
                  done.timings_ms.get("first_token"))


def _mean(values: list[float], scale: float = 1.0) -> float | None:
    return round(scale * sum(values) / len(values), 1) if values else None


def summarise(records: list[Record]) -> dict[str, Any]:
    """Percentages; latency and prompt tokens are means over all sampled questions."""
    answered = [r for r in records if r.item.category != 5]
    adversarial = [r for r in records if r.item.category == 5]
    by_cat = {name: _mean([r.score for r in records if r.item.category == c], 100)
              for c, name in CATEGORIES.items() if c != 5}
    return {
        "f1": {**by_cat, "overall": _mean([r.score for r in answered], 100)},
        "f1_overall_with_citation_markers": _mean(
            [score(r.item.category, r.answer, r.item.gold) for r in answered], 100),
        "adversarial_accuracy": _mean([r.score for r in adversarial], 100),
        "adversarial_accuracy_official_phrases_only": _mean(
            [float(official_unavailable(r.answer)) for r in adversarial], 100),
        "n": {CATEGORIES[c]: sum(r.item.category == c for r in records) for c in CATEGORIES},
        "dont_know_rate_categories_1_4": _mean(
            [float(says_unavailable(r.answer)) for r in answered], 100),
        "answered_without_llm": sum(not r.prompt_tokens for r in records),
        "mean_latency_ms": _mean([r.latency_ms for r in records]),
        "mean_prompt_tokens": _mean([r.prompt_tokens for r in records]),
        "mean_first_token_ms": _mean([r.first_token_ms for r in records
                                      if r.first_token_ms is not None]),
    }


def llm_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """The packaged local LLM without assembling 1 GiB into a temporary data dir: the
    integration tests' verified copy, else one assembled once into the default data dir."""
    if overrides.get("llm", "local") != "local" or overrides.get("llm_model_path"):
        return {}
    from ..config import default_data_dir
    from ..models import weights
    tests = Path(os.environ.get("MEMLANE_TEST_MODELS_DIR")
                 or Path(__file__).parents[3] / ".venv" / "memlane-test-data")
    path = tests / "models" / weights.QWEN25_CODER_1_5B.filename
    return {"llm": "local", "llm_model_path": path if weights.is_verified(
        weights.QWEN25_CODER_1_5B, path) else weights.packaged_gguf(default_data_dir() / "models")}
