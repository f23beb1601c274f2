"""`memlane import`: read exports, transcripts and files here (streaming, with a progress
bar on stderr) and send their memories to the server in batches."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from ..importers import FORMATS, read, size
from ..memory.service import first_error
from ..schemas import MemoryCreate
from .http import api_from, key_option, url_option

FOLDER_SUFFIXES = {".txt", ".md", ".markdown", ".jsonl", ".ndjson", ".json", ".zip"}
MAX_BATCH_BYTES = 1_000_000


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto",
              show_default=True, help="What the files are.")
@click.option("--me", help="Your name in transcripts (your messages are the user's).")
@click.option("--extract", is_flag=True, help="Also extract facts from what you said.")
@click.option("--batch", default=100, show_default=True, help="Memories per request.")
@url_option
@key_option
def import_(paths, fmt, me, extract, batch, url, key):
    """Import ChatGPT or Claude exports (conversations.json or the .zip), chat transcripts,
    memlane JSONL exports, text and markdown files, or folders of them. Importing the same
    files again adds nothing."""
    api = api_from(url, key)
    files = _files(paths)
    totals = {"imported": 0, "existing": 0, "conversations": 0, "errors": 0}
    with tqdm(total=sum(size(f) for f in files), unit="B", unit_scale=True,
              file=sys.stderr) as bar:
        for file in files:
            send = _Sender(api, totals, extract, batch)
            for record in read(file, fmt, me=me, progress=bar.update):
                if isinstance(record, Exception):
                    click.echo(f"{file}: {first_error(record)}", err=True)
                    totals["errors"] += 1
                else:
                    send.add(record)
            send.flush()
            totals["conversations"] += len(send.sessions)
    click.echo(json.dumps(totals))


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found = []
    for path in paths:
        found += (sorted(p for p in path.rglob("*")
                         if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES)
                  if path.is_dir() else [path])
    return found


class _Sender:
    """Batches of memories as JSON lines to `POST /api/import` (format jsonl)."""

    def __init__(self, api, totals: dict, extract: bool, batch: int):
        self.api, self.totals, self.extract, self.batch = api, totals, extract, batch
        self.lines: list[str] = []
        self.size = 0
        self.sessions: set[str] = set()

    def add(self, record: MemoryCreate) -> None:
        self.lines.append(record.model_dump_json(exclude_none=True))
        self.size += len(self.lines[-1])
        if "session" in record.metadata:
            self.sessions.add(str(record.metadata["session"]))
        if len(self.lines) >= self.batch or self.size >= MAX_BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        body = "\n".join(self.lines).encode()
        params = {"format": "jsonl", "extract": str(self.extract).lower()}
        out = self.api.call("POST", "/api/import", params=params, content=body,
                            headers={"Content-Type": "application/x-ndjson"})
        for err in out["errors"]:
            click.echo(f"record {err['record'] + 1}: {err['error']}", err=True)
        self.totals["imported"] += out["imported"]
        self.totals["existing"] += out["existing"]
        self.totals["errors"] += len(out["errors"])
        self.lines, self.size = [], 0
