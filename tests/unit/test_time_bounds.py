"""Time words past the ends of the calendar are held at its ends, never a crash."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memlane.memory.timeparse import EARLIEST, LATEST, parse_time_range

NOW = datetime(2026, 11, 21, 15, tzinfo=UTC)
HOSTILE = ["what did I do 1000000 days ago", "99999999999 years ago", "2147483648 weeks ago",
           "9" * 1900 + " days ago", "since 9999-12-31", "after 9999-12-31",
           "before 0001-01-01", "on 31 december 9999", "in december 9999", "in 9999",
           "on december 31, 9999", "since 0001-01-01", "3 days ago in 0001"]


@pytest.mark.parametrize("query", HOSTILE)
def test_time_words_at_the_ends_of_the_calendar_do_not_crash(query):
    found = parse_time_range(query, NOW)
    assert found is not None
    for bound in (found.since, found.until):
        assert bound is None or EARLIEST <= bound <= LATEST


def test_far_past_is_held_at_the_start_and_late_dates_at_the_end():
    assert parse_time_range("1000000 days ago", NOW).since == EARLIEST
    last = parse_time_range("on 31 december 9999", NOW)
    assert last.since == datetime(9999, 12, 31, tzinfo=UTC) and last.until == LATEST
    assert parse_time_range("after 9999-12-31", NOW).since == LATEST


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("time_mode", ["boost", "filter"])
def test_search_answers_time_words_past_the_calendar(make_client, query, time_mode):
    client = make_client(time_mode=time_mode)
    client.post("/api/memories", json={"text": "I went hiking", "occurred_at": "2026-01-01"})
    r = client.post("/api/search", json={"query": query})
    assert r.status_code == 200, r.text
