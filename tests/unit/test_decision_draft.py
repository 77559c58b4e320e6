"""Drafting a decision from a thread (grounded mode) and the decision Block Kit: pure functions."""

from __future__ import annotations

import json

import pytest

from bot.decisions.draft import ThreadMessage, clean_slack_text, draft_from_thread, title_from
from bot.decisions.models import Decision, SourceRef
from bot.slack import decision_blocks as cards
from tests.fakes.slack_api import check_message, check_view

THREAD = [
    ThreadMessage("U0CLERK01", "Should the new 311 CRM speak Open311? The vendor has a proprietary API.", "1.1"),
    ThreadMessage("U0DEVLEAD", "We could build an adapter later, or require GeoReport v2 in the contract.", "1.2"),
    ThreadMessage("U0RECORD1", "An adapter would cost about $60,000 and delay launch by 3 months.", "1.3"),
    ThreadMessage(
        "U0MANAGER", "Agreed: we'll require Open311 GeoReport v2 in the contract. <@U0CLERK01> thanks!", "1.4"
    ),
    ThreadMessage("U0CLERK01", ":tada: great", "1.5"),
]


def test_the_settling_sentence_becomes_title_and_decision() -> None:
    draft = draft_from_thread(THREAD)
    assert draft.title == "Require Open311 GeoReport v2 in the contract"
    assert draft.decision.startswith("Agreed: we'll require Open311 GeoReport v2")
    assert draft.decided_by == "U0MANAGER"
    assert draft.participants == ["U0CLERK01", "U0DEVLEAD", "U0RECORD1", "U0MANAGER"]
    assert "proprietary API" in draft.context and "$60,000" in draft.context  # the question and the reasons
    assert draft.options == ["We could build an adapter later, or require GeoReport v2 in the contract."]
    assert draft.mode == "grounded"


def test_the_picked_message_wins_over_later_chatter() -> None:
    picked = draft_from_thread(THREAD, focus_ts="1.2")
    assert picked.title.startswith("We could build an adapter later")
    assert picked.decided_by == "U0DEVLEAD"


def test_an_empty_or_bot_only_thread_gives_an_empty_draft() -> None:
    empty = draft_from_thread([ThreadMessage("U1", "  :wave:  ", "1")])
    assert (empty.title, empty.decision) == ("", "") and empty.participants == []


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("OK, we'll go with Vendor B because the SLA is better.", "Go with Vendor B"),
        ("We decided to keep 311 data for 7 years.", "Keep 311 data for 7 years"),
        ("Let's pilot the sensors on Main Street; then review.", "Pilot the sensors on Main Street"),
        (
            "Final: the city will own all data collected by the sensors and the vendor will delete copies at the end",
            "The city will own all data collected by the sensors…",
        ),
    ],
)
def test_titles_drop_lead_ins_and_reasons(sentence: str, title: str) -> None:
    assert title_from(sentence) == title


def test_slack_markup_is_cleaned() -> None:
    text = "See <https://example.gov/rfp|the RFP> &amp; <https://x.gov> <@U123> <!here> :smile: now"
    assert clean_slack_text(text) == "See the RFP & https://x.gov now"


def decision(**extra: object) -> Decision:
    base: dict[str, object] = {
        "id": "DEC-0007",
        "number": 7,
        "title": "Require Open311 <GeoReport> v2",
        "decision": "Require it & test it.",
        "created_at": 1.0,
        "updated_at": 1.0,
        "decided_by": "U0MANAGER",
        "participants": ["U0CLERK01", "Jane Roe"],
        "sources": [SourceRef(doc_id="standards/open311.md", title="Open311", url="https://open311.org")],
        "tags": ["311"],
    }
    return Decision.model_validate({**base, **extra})


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        ("proposed", [cards.ACCEPT, cards.REJECT, cards.SUPERSEDE, cards.VIEW_PAGE]),
        ("accepted", [cards.SUPERSEDE, cards.VIEW_PAGE]),
        ("rejected", [cards.REOPEN, cards.VIEW_PAGE]),
        ("superseded", [cards.VIEW_PAGE]),
    ],
)
def test_cards_offer_only_the_changes_the_status_allows(status: str, buttons: list[str]) -> None:
    card = cards.decision_card(decision(status=status), public_url="https://city.example.gov/")
    assert not check_message({"channel": "C1", "text": card.text, "blocks": card.blocks})
    actions = [b for b in card.blocks if b["type"] == "actions"]
    found = [e["action_id"] for e in actions[0]["elements"]] if actions else []  # type: ignore[index]
    assert found == buttons
    dumped = json.dumps(card.blocks)
    assert (
        "Require it &amp; test it." in dumped
        and "<GeoReport>" in dumped
        and "<@U0MANAGER>" in dumped
        and "Jane Roe" in dumped
    )
    assert "https://city.example.gov/decisions/DEC-0007" in dumped


def test_the_form_fits_slack_and_round_trips_its_values() -> None:
    draft = draft_from_thread(THREAD).model_copy(
        update={
            "sources": [SourceRef(doc_id=f"d{i}", title="T" * 200, url="https://x.gov/" + "p" * 400) for i in range(12)]
        }
    )
    form = cards.decision_modal(
        draft, {"channel": "C1", "thread_ts": "1.1", "permalink": "https://s/p1"}, today="2026-11-21"
    )
    assert not check_view(form) and len(form["private_metadata"]) <= 3000
    metadata = cards.unpack_metadata(form["private_metadata"])
    assert metadata["channel"] == "C1" and 0 < len(metadata["sources"]) <= 10
    state = {
        "values": {
            "title": {"value": {"value": "Require Open311"}},
            "decision": {"value": {"value": "Require GeoReport v2."}},
            "options": {"value": {"value": "- Adapter later\n\n• Proprietary API"}},
            "status": {"value": {"selected_option": {"value": "accepted"}}},
            "participants": {"value": {"selected_users": ["U1", "U2"]}},
            "date": {"value": {"selected_date": "2026-11-20"}},
            "tags": {"value": {"value": "311, open standards,"}},
            "sources": {"value": {"selected_options": [{"value": "1"}]}},
        }
    }
    fields = cards.form_values(state, metadata)
    assert fields["options"] == ["Adapter later", "Proprietary API"] and fields["status"] == "accepted"
    assert fields["tags"] == ["311", " open standards"]  # the model trims and lowercases them
    assert [source.doc_id for source in fields["sources"]] == ["d1"]
    assert fields["channel"] == "C1" and fields["permalink"] == "https://s/p1"


def test_validation_errors_land_on_their_blocks() -> None:
    errors = cards.form_errors(
        [
            {"loc": ("title",), "msg": "Value error, a decision needs a title"},
            {"loc": ("decision",), "msg": "Value error, say what was decided"},
            {"loc": ("sources", 0), "msg": "bad"},
        ]
    )
    assert errors == {"title": "A decision needs a title", "decision": "Say what was decided"}


def test_search_results_and_home_list_fit_slack() -> None:
    many = [decision(id=f"DEC-{n:04d}", number=n) for n in range(1, 80)]
    message = cards.decisions_message(many, query="open311", command="/citybridge", public_url="")
    assert not check_message({"channel": "C1", "text": message.text, "blocks": message.blocks})
    assert "Showing 47 of 79" in json.dumps(message.blocks)
    none = cards.decisions_message([], query="zoning", command="/citybridge")
    assert "No decision matches “zoning”" in none.text


def test_decision_editors_come_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import Settings

    monkeypatch.setenv("CITYBRIDGE_DECISION_EDITORS", " U0EDITOR1, ,U0EDITOR2 ")
    limited = Settings(_env_file=None)  # type: ignore[call-arg]
    assert limited.decision_editors == ["U0EDITOR1", "U0EDITOR2"]
    assert limited.may_change_decisions("U0EDITOR2") and not limited.may_change_decisions("U0OUTSIDE")
    monkeypatch.delenv("CITYBRIDGE_DECISION_EDITORS")
    assert Settings(_env_file=None).may_change_decisions("U0OUTSIDE")  # type: ignore[call-arg]  # empty: anyone
