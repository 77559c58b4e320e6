"""Audience from Slack: who is staff, what a channel may be shown, brief caching, and failing closed.
Runs against the fake Slack Web API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.audience import AudienceResolver
from knowledge.visibility import PUBLIC, STAFF, Audience
from tests.fakes.slack_api import FakeSlack, serve

HOME = "T111"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve(FakeSlack()) as running:
        running.users.update(
            {
                "U0STRANGER": {"is_stranger": True},
                "U0OTHERORG": {"team_id": "T999"},
                "U0GUEST": {"is_restricted": True},
                "U0SINGLE": {"is_ultra_restricted": True},
                "U0GRID": {"team_id": "T222", "enterprise_id": "E111"},
            }
        )
        running.channels.update({"C0SHARED": {"is_ext_shared": True}, "C0PENDING": {"is_shared": True}})
        running.members.update({"G0STAFF": ["W111", "W222"], "G0MIXED": ["W111", "U0GUEST"]})
        running.usergroups.update({"S0EVAL": ["W222"]})
        yield running


def resolver(fake: FakeSlack, **kwargs: object) -> AudienceResolver:
    return AudienceResolver(fake.client(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("user", ["U0STRANGER", "U0OTHERORG", "U0GUEST", "U0SINGLE"])
def test_people_from_outside_and_guests_see_public_material(fake: FakeSlack, user: str) -> None:
    assert resolver(fake).who(user, team=HOME).audience == PUBLIC


def test_staff_are_home_members_with_their_user_groups(fake: FakeSlack) -> None:
    who = resolver(fake).who("W222", team=HOME)
    assert who.audience == Audience("internal", frozenset({"W222", "S0EVAL"})) and who.name
    assert resolver(fake).who("U0GRID", team=HOME, enterprise="E111").is_staff  # another workspace of the grid
    assert not resolver(fake).who("U0GRID", team=HOME).is_staff
    # the event's user_team says Slack Connect before anything is asked
    assert resolver(fake).who("W111", team=HOME, user_team="T999").audience == PUBLIC
    # a configured home (grid) wins over the installation
    assert not resolver(fake, home_teams=["T777"]).who("W111", team=HOME).is_staff


@pytest.mark.parametrize(
    ("channel", "kind", "ceiling"),
    [
        ("D0ANY", "dm", None),
        ("C111", "public", PUBLIC),
        ("C0SHARED", "shared", PUBLIC),
        ("C0PENDING", "shared", PUBLIC),
        ("G0STAFF", "private", STAFF),
        ("G0MIXED", "private", PUBLIC),  # a guest is among the members
    ],
)
def test_a_channel_caps_what_its_answers_may_show(
    fake: FakeSlack, channel: str, kind: str, ceiling: Audience | None
) -> None:
    place = resolver(fake).place(channel, team=HOME)
    assert (place.kind, place.ceiling) == (kind, ceiling)


def test_when_slack_cannot_be_asked_the_answer_is_public_material_only(fake: FakeSlack) -> None:
    fake.fail["users.info"] = "ratelimited"
    fake.fail["conversations.info"] = "internal_error"
    r = resolver(fake)
    assert r.who("W111", team=HOME).audience == PUBLIC
    assert r.place("G0STAFF", team=HOME).ceiling == PUBLIC
    fake.fail.clear()  # a failure is not remembered: the next request asks again
    assert r.who("W111", team=HOME).is_staff and r.place("G0STAFF", team=HOME).ceiling == STAFF


def test_lookups_are_cached_briefly(fake: FakeSlack) -> None:
    cached = resolver(fake, ttl=300)
    for _ in range(3):
        cached.who("W111", team=HOME)
        cached.place("G0STAFF", team=HOME)
    assert len(fake.calls_to("users.info")) == 2  # W111, then W222 as a member of G0STAFF
    assert len(fake.calls_to("conversations.info")) == 1 and len(fake.calls_to("conversations.members")) == 1
    fresh = resolver(fake, ttl=0)
    fresh.who("W111", team=HOME)
    fresh.who("W111", team=HOME)
    assert len(fake.calls_to("users.info")) == 4
