"""The terminal chat is a door like the others: each line is a request through the one request path."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from bot.chat import handle
from bot.services import Services


def said(services: Services, line: str) -> tuple[bool, str]:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    going_on = handle(line, services, console)
    return going_on, console.file.getvalue()  # type: ignore[attr-defined]


def test_each_line_goes_through_the_registry_and_is_audited(library: Services, tmp_path: Path) -> None:
    going_on, out = said(library, "What is the micro-purchase threshold?")
    assert going_on and "$10,000" in out
    _, out = said(library, "help")
    for verb in ("ask", "gov", "tech", "plain", "review", "lessons", "search", "decisions", "stats", "quit"):
        assert verb in out
    assert "decide" not in out.split()  # a form only Slack can open
    _, out = said(library, "decide")
    assert "There is no 'decide' command here" in out and "Type `help`" in out
    contract = tmp_path / "pilot.md"
    contract.write_text("# Pilot\n\nThe vendor shall return all City data within 30 days of the end of the pilot.\n")
    _, out = said(library, f"plain {contract}")
    assert "30 days" in out
    _, out = said(library, "gov")
    assert "`gov` needs text after it" in out
    assert said(library, "quit")[0] is False
    records = library.audit.since(dt.date(2020, 1, 1))
    chat = [r for r in records if r["door"] == "chat"]
    assert {r["verb"] for r in chat} >= {"ask", "help", "plain", "gov"}
    assert any(r["outcome"] == "error" and r["verb"] == "gov" for r in chat)


def test_the_chat_answers_lines_piped_into_it(library: Services) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--home", str(library.settings.home), "chat"],
        input="What is the micro-purchase threshold?\nquit\n",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "$10,000" in done.stdout
