"""Visibility levels, what an audience may see, and how a request's audience is worked out."""

from __future__ import annotations

import pytest

from bot.request import Place, Request, Who
from knowledge.visibility import PUBLIC, STAFF, Audience, Visibility, VisibilityError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("public", Visibility("public")),
        (" Internal ", Visibility("internal")),
        ("restricted:S0EVAL", Visibility("restricted", ("S0EVAL",))),
        ("restricted: U2 , U1,U2", Visibility("restricted", ("U1", "U2"))),
    ],
)
def test_visibilities_are_read_the_ways_people_write_them(text: str, expected: Visibility) -> None:
    parsed = Visibility.parse(text)
    assert parsed == expected and Visibility.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "secret", "restricted", "restricted:", "restricted:a b", "public:x"])
def test_anything_else_is_refused_with_a_way_forward(text: str) -> None:
    with pytest.raises(VisibilityError) as raised:
        Visibility.parse(text)
    assert raised.value.hint


def test_who_sees_what() -> None:
    evaluator = Audience("internal", frozenset({"U1", "S0EVAL"}))
    restricted = Visibility("restricted", ("S0EVAL",))
    assert PUBLIC.may_see(Visibility("public")) and not PUBLIC.may_see(Visibility("internal"))
    assert STAFF.may_see(Visibility("internal")) and not STAFF.may_see(restricted)
    assert evaluator.may_see(restricted) and evaluator.may_see(Visibility("internal"))
    # a group on a public audience counts for nothing: only staff are ever in a group
    assert not Audience("public", frozenset({"S0EVAL"})).may_see(restricted)


def test_an_answer_in_a_channel_shows_no_more_than_every_member_may_see() -> None:
    evaluator = Who("U1", audience=Audience("internal", frozenset({"U1", "S0EVAL"})))
    vendor = Who("U9", audience=PUBLIC)
    dm, private, shared = Place("D1", "dm", None), Place("G1", "private", STAFF), Place("C1", "shared", PUBLIC)
    assert Request(evaluator, dm, "ask").audience == evaluator.audience  # a DM: what that person may see
    assert Request(evaluator, private, "ask").audience == STAFF  # groups do not carry into a channel
    assert Request(evaluator, shared, "ask").audience == PUBLIC
    assert Request(vendor, dm, "ask").audience == PUBLIC
    assert Request(vendor, private, "ask").audience == PUBLIC
