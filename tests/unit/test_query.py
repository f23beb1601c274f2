from datetime import UTC, datetime

from fakes import RegexNLP
from memlane.memory.query import analyse

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _analyse(text):
    return analyse(text, RegexNLP().parse([text])[0], NOW)


def test_question_with_entity_and_keywords():
    a = _analyse("Where did Alice move?")
    assert a.intent == "question" and a.needs_memory
    assert "Alice" in a.entities and "alice" in a.keywords and "move" in a.keywords
    assert "where" not in a.keywords


def test_chit_chat_needs_no_memory():
    a = _analyse("thanks!")
    assert a.intent == "chit-chat" and not a.needs_memory


def test_command_and_recall():
    assert _analyse("remember that I like tea").intent == "command"
    assert _analyse("delete the note about tea").intent == "command"
    assert _analyse("what do you know about my sister?").intent == "recall"


def test_time_words_become_a_range_and_leave_the_keywords():
    a = _analyse("what happened in May 2023?")
    assert a.time_range.since == datetime(2023, 5, 1, tzinfo=UTC)
    assert "2023" not in a.keywords


def test_preference_question_points_at_profile():
    assert "profile" in _analyse("what food do I like?").types


def test_codes_are_keywords_whole_as_the_index_holds_them():
    """spaCy splits a number from a unit ("hunter2g" -> "hunter2", "g"); the index keeps
    "hunter2g" whole, so the query must search for it whole too."""
    from memlane.models.nlp import Parsed, Token
    split = {"hunter2g": ["hunter2", "g"], "x5km": ["x5", "km"], "route66kg": ["route66", "kg"]}
    for code, pieces in split.items():
        query = f"what is {code}?"
        tokens = [Token(w, w, "X", w in ("what", "is"), w == "?")
                  for w in ["what", "is", *pieces, "?"]]
        assert code in analyse(query, Parsed(tokens=tokens), NOW).keywords


def test_time_words_do_not_become_codes():
    a = _analyse("what happened on the 3rd of May 2023?")
    assert "3rd" not in a.keywords and "2023" not in a.keywords
