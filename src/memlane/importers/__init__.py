"""Importers: exports and transcripts as memories, read as a stream (a conversation or a
line at a time; a 200 MB export is never loaded whole).

Formats: `chatgpt` and `claude` (their data exports' conversations.json, or the export
.zip), `transcript` (Speaker: text lines, WhatsApp exports), `jsonl` (memlane's export)
and `text` (text and markdown files). `auto` tells them apart by their first bytes."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import ijson

from ..errors import BadRequest
from ..schemas import MemoryCreate
from . import chatgpt, claude, files, transcript

Format = Literal["auto", "chatgpt", "claude", "transcript", "jsonl", "text"]
FORMATS: tuple[str, ...] = Format.__args__  # type: ignore[attr-defined]
Progress = Callable[[int], object]  # called with each number of bytes read
TEXT_SUFFIXES = (".txt", ".md", ".markdown")


def read(path: Path, fmt: Format = "auto", *, name: str | None = None, me: str | None = None,
         progress: Progress | None = None) -> Iterator[MemoryCreate | Exception]:
    """The memories in a file, in order (an Exception for a record that cannot be one).
    ``name``: the file's name when ``path`` is a temporary copy (a transcript's session)."""
    name = name or path.name
    with _opened(path) as (stream, inner):
        kind = detect(stream, inner or name) if fmt == "auto" else fmt
        stream.seek(0)
        stream = _counted(stream, progress)
        if kind in ("chatgpt", "claude"):
            try:
                yield from (chatgpt if kind == "chatgpt" else claude).read(stream)
            except ijson.JSONError as exc:
                raise BadRequest(f"{name} is not valid JSON ({exc})") from None
            return
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
        if kind == "transcript":
            yield from transcript.read(text, Path(name).stem, me)
        elif kind == "jsonl":
            yield from files.read_jsonl(text)
        elif kind == "text":
            yield from files.read_text(text.read(), name)
        else:
            raise BadRequest(f"unknown import format {kind!r}; known: {', '.join(FORMATS)}",
                             param="format")


def detect(stream: IO[bytes], name: str) -> str:
    head = stream.read(4096)
    stream.seek(0)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"[" and head.lstrip(b"\xef\xbb\xbf \t\r\n[")[:1] in (b"{", b"]", b""):
        return _json_kind(stream)
    if start == b"{" or name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    lines = head.decode("utf-8", errors="replace").splitlines()[:40]
    return "transcript" if transcript.looks_like(lines) else "text"


def _json_kind(stream: IO[bytes]) -> str:
    try:
        for first in ijson.items(stream, "item"):
            if isinstance(first, dict) and "chat_messages" in first:
                return "claude"
            if isinstance(first, dict) and "mapping" in first:
                return "chatgpt"
            break
        else:
            return "chatgpt"  # an empty list: nothing to import either way
    except ijson.JSONError:
        pass
    raise BadRequest("a JSON array that is neither a ChatGPT nor a Claude export",
                     param="format")


def size(path: Path) -> int:
    """The bytes ``read`` will go through (of the export inside a .zip)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return archive.getinfo(_member(archive)).file_size
    return path.stat().st_size


@contextmanager
def _opened(path: Path):
    """The file (or the export inside a .zip) as a seekable byte stream, and the name of
    the zip member."""
    with open(path, "rb") as raw:
        if not zipfile.is_zipfile(raw):
            raw.seek(0)
            yield raw, None
            return
    with zipfile.ZipFile(path) as archive:
        member = _member(archive)
        with archive.open(member) as inner:
            yield inner, member


def _member(archive: zipfile.ZipFile) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    for wanted in (lambda n: n.rsplit("/", 1)[-1] == "conversations.json",
                   lambda n: n.endswith(".txt")):
        found = [n for n in names if wanted(n)]
        if found:
            return min(found, key=len)
    raise BadRequest("the archive holds no conversations.json and no .txt transcript")


def _counted(stream: IO[bytes], progress: Progress | None) -> IO[bytes]:
    return io.BufferedReader(_Counting(stream, progress)) if progress else stream


class _Counting(io.RawIOBase):
    def __init__(self, stream: IO[bytes], progress: Progress):
        self.stream, self.progress = stream, progress

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        self.progress(len(data))
        return len(data)
