"""Turn files and folders into import records: JSONL as is, text and markdown by file."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MAX_PART_CHARS = 40_000


def records_from_paths(paths: tuple[Path, ...]) -> Iterator[dict]:
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            yield from _records(file)


def _records(file: Path) -> Iterator[dict]:
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except (ValueError, RecursionError):  # also: too deep, too long a number
                    raise click.ClickException(f"{file}:{n} is not valid JSON") from None
    elif suffix in TEXT_SUFFIXES:
        text = file.read_text(encoding="utf-8", errors="replace")
        for part in _parts(text):
            yield {"text": part, "type": "semantic", "source": "import",
                   "metadata": {"file": file.name}}


def _parts(text: str) -> list[str]:
    """Whole files unless they are huge; then paragraphs packed up to the part size."""
    if not text.strip():
        return []
    parts, current = [], ""
    for para in text.split("\n\n"):
        if current and len(current) + len(para) + 2 > MAX_PART_CHARS:
            parts.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    parts.append(current)
    return [p[:MAX_PART_CHARS] for p in parts if p.strip()]
