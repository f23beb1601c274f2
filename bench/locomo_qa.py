"""LoCoMo answer quality: official F1 per category of `engine.asker.ask` (local LLM) on a
fixed, seeded, stratified sample of questions, next to the published anchors. Prints one
JSON object on stdout; a progress bar on stderr.

    .venv/bin/python bench/locomo_qa.py                       # 200 questions, ~20 min
    .venv/bin/python bench/locomo_qa.py --questions 40 --conversations conv-26 \\
        --set answer_contexts=12 --details /tmp/locomo_qa_details.json

Scoring and sampling: memlane.evaluation.locomo_qa. The dataset is read from
../shared/data/ and never copied into the repository (CC BY-NC 4.0).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from locomo import DEFAULT_DATA, overrides_or_exit, positive, require_data
from machine import state

ANCHORS = {
    "locomo_paper_best_rag_gpt_3.5_f1_overall": 43.3,
    "mem0_paper_gpt_4o_mini_f1": {"single-hop": 38.7, "multi-hop": 28.6,
                                  "open-domain": 47.7, "temporal": 48.9},
    "sources": "Maharana et al., ACL 2024 (LoCoMo); Chhikara et al., 2025 (Mem0)",
}
SCORING = (
    "official LoCoMo answer scoring: categories 2-4 token F1 after lower-casing and removing "
    "commas, punctuation and a/an/the/and, with Porter stemming (NLTK's default mode); "
    "category 3 against the gold answer before any ';'; category 1 comma-split multi-answer "
    "F1; category 5 correct when the answer contains 'no information available' or 'not "
    "mentioned' - and, beyond the official rule, our \"I don't know\" (the official-only "
    "figure is adversarial_accuracy_official_phrases_only). Citation markers like [2] are "
    "removed from answers before scoring (f1_overall_with_citation_markers keeps them). "
    "overall = mean over category 1-4 questions. Figures in percent.")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"LoCoMo JSON file [{DEFAULT_DATA}]")
    p.add_argument("--questions", type=positive, default=200,
                   help="sampled questions in all [200]")
    p.add_argument("--conversations", nargs="+", metavar="ID",
                   help="only these sample ids (e.g. conv-26 conv-30) [all]")
    p.add_argument("--seed", type=int, help="sampling seed [the fixed default]")
    p.add_argument("--max-tokens", type=positive, default=48, help="answer tokens [48]")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override an engine setting (repeatable), e.g. answer_contexts=12")
    p.add_argument("--details", type=Path,
                   help="also write every question, gold answer, answer and score here "
                        "(keep it outside the repository: it holds dataset text)")
    return p.parse_args(argv)


async def run(args: argparse.Namespace, overrides: dict) -> dict:
    from memlane.config import load_settings
    from memlane.engine import Engine
    from memlane.evaluation import locomo
    from memlane.evaluation import locomo_qa as qa
    from memlane.evaluation.locomo_report import SETTINGS_NOT_REPORTED

    started, machine_start = time.perf_counter(), state()
    wanted = set(args.conversations or [])
    conversations = [c for c in locomo.load_conversations(args.data)
                     if not wanted or c.sample_id in wanted]
    if missing := wanted - {c.sample_id for c in conversations}:
        sys.exit(f"error: no conversation {', '.join(sorted(missing))} in {args.data}")
    ids = {c.sample_id for c in conversations}
    items = [i for i in qa.load_items(args.data) if i.conversation in ids]
    seed = qa.SEED if args.seed is None else args.seed
    sample = qa.stratified_sample(items, args.questions, seed)
    with tempfile.TemporaryDirectory(prefix="memlane-locomo-qa-") as tmp:
        settings = load_settings(**{**qa.llm_overrides(overrides), **overrides,
                                    "data_dir": tmp})
        engine = Engine.from_settings(settings)
        await engine.start()
        try:
            records = await qa.answer_all(engine, conversations, sample,
                                          max_tokens=args.max_tokens)
            llm = {**engine.llm.info(), "warm_up_s": engine.llm_warm}
        finally:
            await engine.stop()
    if args.details:
        args.details.write_text(json.dumps([asdict(r) for r in records], indent=1) + "\n")
    return {
        "benchmark": "locomo-qa",
        **qa.summarise(records),
        "scoring": SCORING,
        "sample": {"questions": len(sample), "seed": seed, "available": len(items),
                   "conversations": sorted(ids),
                   "strata": "conversation x category, in proportion (at least 1 each)"},
        "now": "one hour after each conversation's last session",
        "max_tokens": args.max_tokens,
        "anchors": ANCHORS,
        "llm": llm,
        "settings": settings.model_dump(mode="json",
                                        exclude=SETTINGS_NOT_REPORTED | {"llm_api_key"}),
        "overrides": overrides,
        "data_path": str(args.data.resolve()),
        "machine": {**machine_start, "loadavg_end": state()["loadavg"]},
        "run_seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    args = parse_args(argv)
    require_data(args.data)
    args.conversations = [c for arg in args.conversations or [] for c in arg.split(",") if c]
    overrides = overrides_or_exit(args.sets)
    print(json.dumps(asyncio.run(run(args, overrides)), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
