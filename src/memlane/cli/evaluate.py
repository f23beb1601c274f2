"""`memlane eval`: benchmarks run in-process on a temporary data directory."""
from __future__ import annotations

import click


@click.group("eval")
def eval_() -> None:
    """Measure retrieval on public benchmarks (nothing of yours is touched)."""


@eval_.command("locomo")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N conversations.")
@click.option("--questions", type=click.IntRange(min=1),
              help="At most N questions per conversation.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override an engine setting (repeatable), e.g. weight_vector=0.4.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the JSON here.")
@click.option("--markdown", is_flag=True, help="Print a markdown table on stderr.")
def locomo(path, limit, questions, sets, out, markdown) -> None:
    """LoCoMo recall@5/10/25/50 of evidence turns (PATH: a LoCoMo JSON file), ours vs
    BM25-only vs vector-only vs the published anchor. Prints one JSON object."""
    from ..evaluation import locomo as bench
    try:
        overrides = bench.parse_overrides(sets)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    bench.main(path, limit=limit, questions=questions, overrides=overrides, out=out,
               markdown=markdown)
