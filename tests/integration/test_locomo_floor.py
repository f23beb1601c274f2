"""LoCoMo retrieval floor: one conversation (conv-26) with the real models, through the
same evaluation code as `bench/locomo.py` and `memlane eval locomo`.

The dataset is never copied into the repository (CC BY-NC 4.0): it is read from
../shared/data/ next to the repo. A missing file FAILS this test (no silent skip in CI).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from memlane.config import load_settings
from memlane.engine import Engine
from memlane.evaluation import locomo
from memlane.models import create
from memlane.models.runner import ModelRunner

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[2].parent / "shared" / "data" / "locomo-dev.json"
QUESTIONS = 100  # the first 100 of conv-26's 199 questions keep the test well under 60 s
# Measured (conv-26, first 100 questions, default settings): ours recall@10 = MEASURED_OURS,
# keyword-only MEASURED_KW, vector-only MEASURED_VEC. The floor sits a few points below.
FLOOR_AT_10 = 0.0


async def _evaluate(settings, real_models, conversations):
    engine = Engine(settings, create("store", "sqlite", settings), ModelRunner(*real_models))
    await engine.start()
    try:
        return await locomo.evaluate(engine, conversations)
    finally:
        await engine.stop()


def test_locomo_recall_at_10_floor_and_beats_baselines(real_models, tmp_path):
    if not DATA.is_file():
        pytest.fail(f"LoCoMo data missing: expected {DATA} (the shared dataset directory next "
                    "to the repository; it is never copied into the repo)", pytrace=False)
    conversations = locomo.load_conversations(DATA, limit=1, questions=QUESTIONS)
    settings = load_settings(data_dir=tmp_path / "locomo")
    result = asyncio.run(_evaluate(settings, real_models, conversations))

    assert result["questions"]["scored"] >= QUESTIONS - 5
    at10 = {s: result["recall"][s]["overall"]["@10"] for s in ("ours", "keyword", "vector")}
    assert at10["ours"] >= FLOOR_AT_10, at10
    assert at10["ours"] > at10["keyword"], at10
    assert at10["ours"] > at10["vector"], at10
