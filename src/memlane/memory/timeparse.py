"""Time expressions in a query ("last week", "in May 2023", "3 days ago") into a UTC range."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"])}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MON = r"(january|february|march|april|may|june|july|august|september|october|november|" \
       r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}


@dataclass
class TimeRange:
    since: datetime | None
    until: datetime | None  # exclusive
    phrase: str


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def _shift(when: datetime, days: int) -> datetime:
    """``when`` moved by ``days``, held at the ends of the calendar ("1000000 days ago")."""
    try:
        return when + timedelta(days=days)
    except OverflowError:
        return LATEST if days > 0 else EARLIEST


def _month_range(y: int, m: int) -> tuple[datetime, datetime]:
    start = _day(y, m, 1)
    end = _next_year(y) if m == 12 else _day(y, m + 1, 1)
    return start, end


def _next_year(y: int) -> datetime:
    return _day(y + 1, 1, 1) if y < LATEST.year else LATEST


def _midnight(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _relative(text: str, now: datetime) -> TimeRange | None:
    today = _midnight(now)
    fixed = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        "last week": (today - timedelta(days=today.weekday() + 7),
                      today - timedelta(days=today.weekday())),
        "this month": (today.replace(day=1), today + timedelta(days=1)),
        "last month": (_month_range(*_prev_month(today))),
        "this year": (_day(today.year, 1, 1), today + timedelta(days=1)),
        "last year": (_day(today.year - 1, 1, 1), _day(today.year, 1, 1)),
        "recently": (today - timedelta(days=14), now + timedelta(seconds=1)),
        "lately": (today - timedelta(days=14), now + timedelta(seconds=1)),
    }
    for phrase, (since, until) in fixed.items():
        if re.search(rf"\b{phrase}\b", text):
            return TimeRange(since, until, phrase)
    m = re.search(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of)"
                  r" (day|week|month|year)s? ago\b", text)
    if m:
        n = _count(m.group(1))
        days = n * _UNITS[m.group(2)]
        centre, slack = _shift(today, -days), max(1, days // 4)
        return TimeRange(_shift(centre, -slack), _shift(centre, slack + 1), m.group(0))
    return None


def _count(word: str) -> int:
    if not word.isdigit():
        return _NUMBERS[word]
    return int(word) if len(word) <= 12 else 10**12  # past the calendar either way


def _prev_month(today: datetime) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def _absolute(text: str) -> TimeRange | None:
    patterns = [
        (rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MON},? (\d{{4}})\b", "dmy"),
        (rf"\b{_MON} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", "mdy"),
        (r"\b(\d{4})-(\d{2})-(\d{2})\b", "iso"),
        (rf"\b{_MON},? (\d{{4}})\b", "my"),
        (r"\b(?:in|during|of|since|before|after) (\d{4})\b", "y"),
    ]
    for pattern, kind in patterns:
        m = re.search(pattern, text)
        if m:
            rng = _range_for(kind, m.groups())
            if rng:
                phrase = m.group(1) if kind == "y" else m.group(0)  # without "in"/"since"
                return TimeRange(rng[0], rng[1], phrase)
    return None


def _range_for(kind: str, g: tuple[str, ...]) -> tuple[datetime, datetime] | None:
    try:
        if kind == "dmy":
            start = _day(int(g[2]), MONTHS[g[1]], int(g[0]))
        elif kind == "mdy":
            start = _day(int(g[2]), MONTHS[g[0]], int(g[1]))
        elif kind == "iso":
            start = _day(int(g[0]), int(g[1]), int(g[2]))
        elif kind == "my":
            return _month_range(int(g[1]), MONTHS[g[0]])
        else:
            return _day(int(g[0]), 1, 1), _next_year(int(g[0]))
    except ValueError:
        return None
    return start, _shift(start, 1)


def parse_time_range(query: str, now: datetime) -> TimeRange | None:
    """The first time expression in ``query``; "since/after/before X" open the range."""
    text = query.lower()
    found = _absolute(text) or _relative(text, now)
    if not found:
        return None
    before = text[:text.find(found.phrase)].rstrip()
    if before.endswith(("since", "after")):
        since = found.since if before.endswith("since") else found.until
        return TimeRange(since, None, found.phrase)
    if before.endswith("before"):
        return TimeRange(None, found.since, found.phrase)
    return found
