"""Pure parts of search: query parsing, fusion, duplicate collapsing, sentence selection, metrics."""

import numpy as np
import pytest

from bench.metrics import ndcg_at_k, percentile, recall_at_k
from bot.assistant.sentences import Unit, split_units, term_overlap
from bot.errors import InputError, check_question
from knowledge.fusion import (
    collapse_near_duplicates,
    convex_fusion,
    jaccard,
    reciprocal_rank_fusion,
    shingles,
)
from knowledge.lexical import fts_query, query_terms


def test_query_terms_drop_function_words_and_keep_section_numbers() -> None:
    assert query_terms("What is the micro-purchase threshold in FAR 13.003?") == [
        "micro-purchase",
        "threshold",
        "far",
        "13.003",
    ]


def test_fts_query_quotes_every_term_so_user_text_cannot_inject_operators() -> None:
    assert fts_query('NEAR(a b) OR "x" AND title:secret*') == '"near" OR "title" OR "secret"'
    query = fts_query('sole" OR source*')
    assert query == '"sole" OR "source"'
    assert fts_query("the of and") == ""


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = reciprocal_rank_fusion([[("a", 0.9), ("b", 0.8)], [("b", 12.0), ("c", 3.0)]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.__getitem__) == "b"


def test_convex_fusion_normalises_each_ranking() -> None:
    fused = convex_fusion([("a", 0.9), ("b", 0.5)], [("b", 20.0), ("c", 10.0)], alpha=0.5)
    assert fused == {"a": 0.5, "b": 0.5, "c": 0.0}


def test_near_duplicates_collapse_into_the_best_ranked_copy() -> None:
    text = "Agencies must conduct market research appropriate to the circumstances before soliciting offers."
    groups = collapse_near_duplicates(
        [
            ("md", text),
            ("dita", text.replace("Agencies", "agencies")),
            ("other", "Something else entirely here."),
        ],
        threshold=0.8,
    )
    assert groups == [("md", ["dita"]), ("other", [])]


def test_jaccard_of_shingles() -> None:
    assert jaccard(shingles("a b c d"), shingles("a b c d")) == 1.0
    assert jaccard(shingles(""), shingles("a b c")) == 0.0


def test_table_rows_are_one_unit_with_their_column_names() -> None:
    text = "Tier: Formal | Approves award: City Manager\n- A list item that is long enough."
    assert split_units(text) == [
        Unit("Tier: Formal; Approves award: City Manager.", "row"),
        Unit("A list item that is long enough.", "item"),
    ]


def test_term_overlap_counts_question_words_found() -> None:
    assert term_overlap("protest deadline", "Protests are due within 5 days; the deadline is firm.") == 1.0
    assert term_overlap("protest deadline", "Nothing related.") == 0.0


def test_questions_are_checked_for_empty_and_huge_input() -> None:
    assert check_question("  hi  ") == "hi"
    with pytest.raises(InputError, match="empty"):
        check_question("   ")
    with pytest.raises(InputError, match="5,000 characters; the limit is 2,000"):
        check_question("x" * 5000)


def test_ndcg_and_recall_match_hand_computed_values() -> None:
    assert ndcg_at_k(["a", "b"], {"a": 1}) == 1.0
    assert ndcg_at_k(["x", "a"], {"a": 1}) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k(["x"], {"a": 1, "b": 1}) == 0.0
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}) == pytest.approx(2 / 3)


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0, 10.0]
    for q in (50, 95, 0, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
