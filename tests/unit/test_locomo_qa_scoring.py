"""The official LoCoMo answer scoring, on hand-made strings."""
import pytest

from memlane.evaluation.locomo_qa import (
    Item,
    f1_multi,
    f1_score,
    normalise,
    official_unavailable,
    porter_stem,
    says_unavailable,
    score,
    stratified_sample,
    strip_citations,
)


def test_identical_answers_score_one():
    assert f1_score("Blue bicycle", "Blue bicycle") == 1.0
    assert score(4, "a red kite", "a red kite") == 1.0


def test_unrelated_answers_score_zero():
    assert f1_score("green tea", "red kite") == 0.0
    assert f1_score("", "red kite") == 0.0


def test_articles_punctuation_case_and_commas_are_ignored():
    assert normalise("The Red, kite!  and a dog.") == "red kite dog"
    assert f1_score("The red kite!", "red kite") == 1.0
    assert f1_score("an owl", "Owl.") == 1.0


def test_partial_overlap_is_token_f1():
    # predicted {red, kite, today}, gold {red, kite}: P = 2/3, R = 1 -> F1 = 0.8
    assert f1_score("red kite today", "red kite") == pytest.approx(0.8)


def test_porter_stemming_matches_word_forms():
    assert porter_stem("running") == porter_stem("run") == "run"
    assert f1_score("She went running", "run") == pytest.approx(0.5)
    assert f1_score("painted pictures", "painting picture") == 1.0


def test_porter_stemmer_agrees_with_nltk_reference_examples():
    words = ("caresses flies dies mules denied died agreed owned humbled sized meeting "
             "stating siezing itemization sensational traditional reference colonizer "
             "plotted").split()
    expected = ("caress fli die mule deni die agre own humbl size meet state siez item "
                "sensat tradit refer colon plot").split()
    assert [porter_stem(w) for w in words] == expected


def test_category_1_averages_best_match_per_gold_part():
    assert f1_multi("kites, owls", "owls, kites") == 1.0
    assert f1_multi("kites", "kites, owls") == pytest.approx(0.5)
    assert score(1, "owls, kites, dogs", "kites, owls") == 1.0
    # not split for the other categories: commas are just dropped
    assert score(4, "kites, owls", "owls kites") == 1.0


def test_category_3_keeps_the_gold_answer_before_a_semicolon():
    assert score(3, "likely yes", "likely yes; she mentioned it twice") == 1.0
    assert score(2, "likely yes", "likely yes; she mentioned it twice") < 1.0


def test_category_5_needs_a_not_available_answer():
    assert official_unavailable("No information available about that.")
    assert official_unavailable("The hobby is not mentioned.")
    assert not official_unavailable("I don't know.")
    assert says_unavailable("I don't know: I have no memory of that.")
    assert says_unavailable("I do not know.")
    assert score(5, "That is not mentioned in my memories.", "anything") == 1.0
    assert score(5, "I don't know.", "anything") == 1.0
    assert score(5, "She likes kites [2].", "kites") == 0.0


def test_citation_markers_are_removed():
    assert strip_citations("She likes kites [2] and owls [1, 3].") == "She likes kites and owls."


def test_sample_is_stratified_seeded_and_stable():
    items = [Item(f"c{c}", i, f"q{i}", cat, "x") for c in range(3) for cat in (1, 2, 3, 4, 5)
             for i in range(cat * 10 + c)]
    first = stratified_sample(items, 40)
    assert len(first) == 40 == len(set(first))
    assert first == stratified_sample(list(items), 40)
    assert {(i.conversation, i.category) for i in first} == {
        (i.conversation, i.category) for i in items}
    assert first != stratified_sample(items, 40, seed=1)
