from datetime import UTC, datetime
from itertools import pairwise

from memlane.memory.chunking import chunk_text, content_hash
from memlane.memory.timeparse import parse_time_range

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def _sentences(text):
    import re
    return [(m.start(), m.end()) for m in re.finditer(r"[^.]+\.", text)]


def test_short_text_is_one_chunk():
    chunks = chunk_text("Alice moved to Paris.", [(0, 21)], 800, 150)
    assert [(c.text, c.start, c.end) for c in chunks] == [("Alice moved to Paris.", 0, 21)]


def test_long_text_splits_on_sentences_with_overlap():
    text = " ".join(f"Sentence number {i} says something." for i in range(60))
    chunks = chunk_text(text, _sentences(text), 300, 80)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    for prev, nxt in pairwise(chunks):
        assert nxt.start < prev.end, "consecutive chunks overlap"
        assert text[nxt.start:nxt.end] == nxt.text
    assert chunks[-1].end == len(text)
    assert all(c.text.strip().endswith("something.") for c in chunks)


def test_an_overlong_sentence_is_cut_at_a_space():
    text = "word " * 500
    chunks = chunk_text(text, [(0, len(text))], 200, 0)
    assert all(len(c.text) <= 200 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_duplicate_hash_ignores_whitespace_only():
    assert content_hash("Alice  moved\nto Paris ") == content_hash("Alice moved to Paris")
    assert content_hash("Alice moved to Paris") != content_hash("alice moved to paris")


def test_month_year_range():
    r = parse_time_range("What did Caroline do in May 2023?", NOW)
    assert (r.since, r.until) == (datetime(2023, 5, 1, tzinfo=UTC),
                                  datetime(2023, 6, 1, tzinfo=UTC))


def test_last_week_is_the_previous_calendar_week():
    r = parse_time_range("what did I say last week", NOW)  # NOW is a Saturday
    assert r.since == datetime(2026, 11, 9, tzinfo=UTC)
    assert r.until == datetime(2026, 11, 16, tzinfo=UTC)


def test_day_and_open_ranges():
    day = parse_time_range("on 8 May, 2023", NOW)
    assert (day.since, day.until) == (datetime(2023, 5, 8, tzinfo=UTC),
                                      datetime(2023, 5, 9, tzinfo=UTC))
    since = parse_time_range("everything since March 2024", NOW)
    assert since.since == datetime(2024, 3, 1, tzinfo=UTC) and since.until is None
    before = parse_time_range("before 2020", NOW)
    assert before.since is None and before.until == datetime(2020, 1, 1, tzinfo=UTC)


def test_no_time_words_no_range():
    assert parse_time_range("may I ask where Alice lives?", NOW) is None
