"""`memlane migrate`: copy a SQLite database into PostgreSQL."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from ..errors import MemlaneError


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise click.BadParameter("expected sqlite:///path/to/memlane.db", param_hint="--from")
    rest = url[len("sqlite:///"):]  # sqlite:////abs/path, sqlite:///abs or relative path
    absolute = Path("/" + rest.lstrip("/"))
    path = absolute if rest.startswith("/") or absolute.exists() else Path(rest)
    if path.is_dir():
        path = path / "memlane.db"
    if not path.is_file():
        raise click.BadParameter(f"no SQLite database at {path}", param_hint="--from")
    return path


@click.command("migrate")
@click.option("--from", "source", required=True, metavar="sqlite:///PATH",
              help="the SQLite database (or data directory) to copy")
@click.option("--to", "target", required=True, envvar="MEMLANE_DATABASE_URL",
              metavar="postgresql://…", help="the PostgreSQL database to copy into")
def migrate(source: str, target: str) -> None:
    """Copy a SQLite database into PostgreSQL, verifying every row arrived. Idempotent:
    rows already there are kept, so it can be run again (or resumed) safely."""
    from tqdm import tqdm
    if not target.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("expected postgresql://…", param_hint="--to")
    path = _sqlite_path(source)
    try:
        from ..store.transfer import copy_sqlite_to_postgres
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    bars: dict[str, tqdm] = {}

    def progress(table: str, done: int, total: int) -> None:
        bar = bars.get(table) or bars.setdefault(table, tqdm(
            total=total, desc=table, unit="row", file=sys.stderr, leave=True))
        bar.update(done - bar.n)

    try:
        copied = asyncio.run(copy_sqlite_to_postgres(path, target, progress))
    except MemlaneError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        for bar in bars.values():
            bar.close()
    missing = [c for c in copied if c.found != c.source]
    for c in copied:
        click.echo(f"{c.table}: {c.source} rows, {c.found} in PostgreSQL")
    if missing:
        raise click.ClickException("not every row arrived: " + ", ".join(
            f"{c.table} {c.found}/{c.source}" for c in missing))
    click.echo("verified: every row is in PostgreSQL")
