"""The context builder's budgets and fitting."""
from datetime import UTC, datetime
from itertools import pairwise

from memlane.chat.personas import persona_chunks
from memlane.domain import Memory, MemoryType, Message, Role
from memlane.memory.context import budgets_for, context_items, fit_history, select_memories
from memlane.memory.ranking import Ranked


def count(text):
    return len(text.split())


def test_persona_mode_shares_the_window():
    b = budgets_for(4000, 2000, "persona")
    assert (b.memories, b.history, b.reply) == (1000, 1400, 800)


def test_section_mode_keeps_spec_defaults_in_a_big_window_and_scales_in_a_small_one():
    big = budgets_for(32768, 512, "sections")
    assert big.per_type == {"profile": 600, "semantic": 1500, "episodic": 1500,
                            "procedural": 400} and big.history == 300
    small = budgets_for(4096, 512, "sections")
    assert small.per_type["semantic"] < 1500 and small.reply == 512
    assert sum(small.per_type.values()) + small.entities + small.history < 4096 - 512


def test_memories_fit_their_type_budget_and_render_in_time_order():
    def ranked(i, kind, words, day):
        m = Memory(str(i), "u", " ".join(["w"] * words), type=kind,
                   occurred_at=datetime(2024, 1, day, tzinfo=UTC))
        return Ranked(m, 1.0 - i / 10)
    rs = [ranked(0, MemoryType.semantic, 5, 9), ranked(1, MemoryType.semantic, 50, 2),
          ranked(2, MemoryType.semantic, 5, 1), ranked(3, MemoryType.profile, 5, 5)]
    b = budgets_for(4096, 512, "sections")
    b.per_type.update(semantic=20, profile=20)
    b.memories = 100
    chosen = select_memories(rs, b, count)
    assert [r.memory.id for r in chosen] == ["0", "2", "3"]
    assert [c.memory_id for c in context_items(chosen)] == ["2", "3", "0"]


def test_history_keeps_the_newest_messages_that_fit():
    msgs = [Message(str(i), "c", "u", Role.user, " ".join(["w"] * 10), seq=i)
            for i in range(1, 6)]
    kept, cut = fit_history(msgs, 25, count)
    assert [m.seq for m in kept] == [4, 5] and cut
    assert fit_history(msgs, 100, count) == (msgs, False)


def test_persona_chunks_are_200_chars_overlapping_by_50():
    text = " ".join(f"word{i}" for i in range(200))
    chunks = persona_chunks(text)
    assert all(len(c.text) <= 200 for c in chunks) and len(chunks) > 5
    for a, b in pairwise(chunks):
        assert a.end - b.start >= 40 and b.start > a.start
    assert chunks[-1].end == len(text)
