"""LoCoMo retrieval benchmark: recall@5/10/25/50 of evidence turns, ours vs BM25-only vs
vector-only vs the published DRAGON anchor. Prints one JSON object on stdout.

    .venv/bin/python bench/locomo.py --markdown
    .venv/bin/python bench/locomo.py --limit 1 --questions 50 --set weight_vector=0.4

Same code as `memlane eval locomo PATH` (memlane.evaluation.locomo). The dataset is read
from ../shared/data/ and never copied into the repository (CC BY-NC 4.0).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "locomo-dev.json"


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def require_data(path: Path) -> None:
    if not path.is_file():
        sys.exit(f"error: LoCoMo data not found at {path} (it is read from "
                 "../shared/data/, never copied into the repository)")


def overrides_or_exit(sets: list[str]) -> dict:
    """``--set key=value`` settings overrides, or a clean exit naming the bad one."""
    from memlane.evaluation.locomo import parse_overrides
    try:
        return parse_overrides(sets)
    except ValueError as exc:
        sys.exit(f"error: {exc}")


def print_measured(measure, args: argparse.Namespace) -> int:
    """Run ``measure(args, overrides)`` (a coroutine) offline; print its JSON object."""
    import asyncio
    import json
    import os
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    overrides = overrides_or_exit(args.sets)
    print(json.dumps(asyncio.run(measure(args, overrides)), indent=2, default=str))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"LoCoMo JSON file [{DEFAULT_DATA}]")
    p.add_argument("--limit", type=positive, help="only the first N conversations")
    p.add_argument("--questions", type=positive, help="at most N questions per conversation")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override an engine setting (repeatable), e.g. weight_vector=0.4")
    p.add_argument("--out", help="also write the JSON to this file")
    p.add_argument("--markdown", action="store_true",
                   help="print a markdown table (vs baselines and the anchor) on stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from memlane.evaluation import locomo

    args = parse_args(argv)
    require_data(args.data)
    overrides = overrides_or_exit(args.sets)
    locomo.main(args.data, limit=args.limit, questions=args.questions, overrides=overrides,
                out=args.out, markdown=args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
