"""The one registry of verbs: every door reads its verbs, aliases and help from it."""

from __future__ import annotations

import json

import pytest

from bot import render, verbs
from bot.slack import blocks
from tests.unit.test_blocks import assert_within_limits


def test_every_name_and_alias_belongs_to_exactly_one_verb() -> None:
    names = [name for verb in verbs.VERBS for name in (verb.name, *verb.aliases)]
    assert len(names) == len(set(names))
    for verb in verbs.VERBS:
        assert verb.help.endswith(".") and verb.doors
        for name in (verb.name, *verb.aliases):
            assert verbs.find(name.upper()) is verb


@pytest.mark.parametrize(
    ("text", "strict", "expected"),
    [
        ("", False, ("help", "")),
        ("summarize: the contract", False, ("plain", "the contract")),
        ("What is the threshold?", False, ("ask", "What is the threshold?")),
        ("What is the threshold?", True, ("help", "")),
        ("search body cameras", True, ("search", "body cameras")),
        ("Decisions", True, ("decisions", "")),
    ],
)
def test_typed_text_splits_into_a_verb_and_its_text(text: str, strict: bool, expected: tuple[str, str]) -> None:
    assert verbs.split(text, strict=strict) == expected


def test_help_in_slack_and_in_the_terminal_comes_from_the_registry() -> None:
    slack = blocks.help_message([verb.line("/citybridge") for verb in verbs.available("slack")])
    assert_within_limits(slack)
    dumped = json.dumps(slack.blocks, ensure_ascii=False)
    table = render.help_table([verb.line() for verb in verbs.available("chat")])
    terminal = " ".join(str(cell) for column in table.columns for cell in column._cells)
    for verb in verbs.VERBS:
        assert ("/citybridge " + verb.name in dumped) == ("slack" in verb.doors)
        assert (verb.name in terminal.split()) == ("chat" in verb.doors)


def test_an_unknown_verb_is_a_clear_error() -> None:
    from bot.errors import InputError

    with pytest.raises(InputError, match="no 'frobnicate' command") as raised:
        verbs.get("frobnicate")
    assert "help" in raised.value.hint
