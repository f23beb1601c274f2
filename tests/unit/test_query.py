from datetime import UTC, datetime

from memlane.memory.query import analyse

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _analyse(text):
    return analyse(text, NOW)


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
    for code in ("hunter2g", "x5km", "route66kg"):
        assert code in _analyse(f"what is {code}?").keywords


def test_names_possessives_and_negations():
    a = _analyse("Didn't Caroline's friend move to New York with Melanie?")
    assert a.entities == ["Caroline", "New York", "Melanie"]
    assert a.keywords == ["caroline", "friend", "move", "new", "york", "melanie"]
    assert "friend move" in a.entity_candidates and "didn" not in a.keywords


def test_numbers_are_keywords():
    assert "8810342" in _analyse("whose account number is 8810342?").keywords


def test_time_words_do_not_become_codes():
    a = _analyse("what happened on the 3rd of May 2023?")
    assert "3rd" not in a.keywords and "2023" not in a.keywords
