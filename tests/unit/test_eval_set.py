"""The answer evaluation set is well formed: big enough, split, and every answerable question has gold."""

from __future__ import annotations

from collections import Counter

from bench.answers import load_questions


def test_the_set_has_enough_questions_and_near_misses_in_both_halves() -> None:
    questions = load_questions(split="all")
    assert len(questions) >= 150
    assert sum(not q.answerable for q in questions) >= 40
    halves = Counter((q.split, q.answerable) for q in questions)
    assert all(halves[(split, answerable)] >= 20 for split in ("dev", "test") for answerable in (True, False))


def test_every_question_is_unique_and_answerable_ones_carry_facts_and_documents() -> None:
    questions = load_questions(split="all")
    assert len({q.id for q in questions}) == len(questions)
    assert len({q.question.lower() for q in questions}) == len(questions)
    for q in questions:
        if q.answerable:
            assert q.facts and q.doc_ids, q.id
        else:
            assert not q.facts and q.missing, q.id
