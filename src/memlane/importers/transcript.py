"""Plain chat transcripts, one message per line (a line that does not start a message
continues the one before):
  Speaker: text
  2024-05-01 10:30 Speaker: text                      (an ISO date and time first)
  [12/31/23, 9:41:05 PM] Speaker: text                (WhatsApp on iOS)
  31/12/2023, 21:41 - Speaker: text                   (WhatsApp on Android)
A WhatsApp date is read day first when any date in the file's first lines says so."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from dateutil import parser as dates

from ..schemas import MemoryCreate
from .records import message, when

KIND = "transcript"
_DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s?[APap]\.?\s?[Mm]\.?)?"
_WHO = r"(?P<speaker>[^:\n]{1,60}?):\s?(?P<text>.*)"
PATTERNS = [
    re.compile(rf"^\u200e?\[(?P<date>{_DATE}),?\s+(?P<time>{_TIME})\]\s*{_WHO}$"),
    re.compile(rf"^(?P<date>{_DATE}),?\s+(?P<time>{_TIME})\s+[-–]\s+{_WHO}$"),
    re.compile(r"^\[?(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
               rf"(?:Z|[+-]\d{{2}}:?\d{{2}})?)\]?\s+[-–]?\s*{_WHO}$"),
    re.compile(r"^(?P<speaker>[^\W\d][\w .'’-]{0,39}):\s+(?P<text>\S.*)$"),
]
SKIP = ("<Media omitted>", "\u200e", "Messages and calls are end-to-end encrypted")
PEEK_LINES = 500


def looks_like(lines: list[str], share: float = 0.6) -> bool:
    """Whether most of these (non-blank) lines start a message."""
    lines = [line for line in lines if line.strip()]
    return bool(lines) and sum(1 for line in lines if _match(line)) >= share * len(lines)


def read(lines: Iterable[str], session: str, me: str | None = None
         ) -> Iterator[MemoryCreate]:
    """``me``: the speaker who is the user (their messages get role `user`)."""
    lines = iter(lines)
    head = list(islice(lines, PEEK_LINES))
    dayfirst = _dayfirst(head)
    current: dict | None = None
    n = 0
    for line in _chain(head, lines):
        line = line.rstrip("\r\n")
        found = _match(line)
        if found is None:
            if current is not None and line.strip():
                current["text"] += "\n" + line
            continue
        if current is not None:
            yield from _message(session, n, current, me)
            n += 1
        current = {"speaker": found["speaker"].strip(), "text": found["text"],
                   "at": _when(found, dayfirst)}
    if current is not None:
        yield from _message(session, n, current, me)


def _message(session: str, n: int, said: dict, me: str | None) -> list[MemoryCreate]:
    text = said["text"].strip()
    if not text or text.startswith(SKIP):
        return []
    digest = hashlib.sha1(f"{said['speaker']}\n{text}".encode()).hexdigest()[:12]
    mine = me is not None and said["speaker"].casefold() == me.strip().casefold()
    return message(KIND, session, f"{session}:{n}:{digest}", text,
                   role="user" if mine else "speaker", speaker=said["speaker"], at=said["at"])


def _match(line: str) -> dict | None:
    for pattern in PATTERNS:
        found = pattern.match(line)
        if found:
            return found.groupdict()
    return None


def _when(found: dict, dayfirst: bool) -> datetime | None:
    if found.get("iso"):
        return when(found["iso"])
    if not found.get("date"):
        return None
    try:
        return when(dates.parse(f"{found['date']} {found['time'].replace('.', ':')}",
                                dayfirst=dayfirst).isoformat())
    except (ValueError, OverflowError):
        return None


def _dayfirst(lines: list[str]) -> bool:
    for line in lines:
        found = _match(line)
        if found and found.get("date"):
            first, second = (int(p) for p in re.split(r"[./-]", found["date"])[:2])
            if first > 12 >= second:
                return True
            if second > 12 >= first:
                return False
    return False


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest
