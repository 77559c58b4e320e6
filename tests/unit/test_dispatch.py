"""The one request path: errors are caught the same way for every door, and every outcome is audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.assistant.results import AskResult
from bot.dispatch import SORRY, Dispatcher, reference
from bot.request import Place, Request, Who, local_request
from knowledge.visibility import PUBLIC


class Recorder:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record(self, **fields: Any) -> bool:
        self.records.append(fields)
        return True


class Skills:
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail

    def ask(self, question: str) -> AskResult:
        if self.fail:
            raise self.fail
        return AskResult(question=question, answered=True, answer="Yes [1].")


class Workspace:
    def __init__(self, skills: Skills) -> None:
        self.skills = skills


class Blackout:
    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def concerning(self, question: str) -> None:
        if self.fail:
            raise OperationalError("SELECT", {}, Exception("connection refused"))


class Services:
    def __init__(self, *, fail: Exception | None = None, blackout_down: bool = False) -> None:
        self.audit = Recorder()
        self.blackout = Blackout(blackout_down)
        self.skills = Skills(fail)
        self.audiences: list[Any] = []

    def workspace(self, audience: Any) -> Workspace:
        self.audiences.append(audience)
        return Workspace(self.skills)


def dispatch(services: Services, request: Request) -> Any:
    return Dispatcher(services).handle(request)  # type: ignore[arg-type]


def test_an_answer_is_audited_with_its_audience_and_runs_in_that_audiences_workspace() -> None:
    services = Services()
    vendor = Request(Who("U9", audience=PUBLIC), Place("C1", "shared", PUBLIC), "ask", "What is it?", door="slack")
    outcome = dispatch(services, vendor)
    assert outcome.status == "answered" and outcome.result.answer == "Yes [1]."
    assert services.audiences == [PUBLIC]
    [record] = services.audit.records
    assert record["outcome"] == "answered" and record["audience"] == "public" and record["place"] == "shared"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (local_request("frobnicate", "x"), "There is no 'frobnicate' command here."),
        (local_request("decide", door="chat"), "There is no 'decide' command here."),
        (local_request("gov", "  "), "`gov` needs text after it."),
    ],
)
def test_unusable_requests_get_a_specific_reason(request_: Request, message: str) -> None:
    services = Services()
    outcome = dispatch(services, request_)
    assert outcome.status == "error" and outcome.message.startswith(message) and outcome.hint
    assert services.audit.records[0]["outcome"] == "error"


def test_a_bug_is_answered_with_a_reference_and_never_its_details(caplog: pytest.LogCaptureFixture) -> None:
    services = Services(fail=RuntimeError("token=xoxb-secret"))
    request = local_request("ask", "What is it?")
    outcome = dispatch(services, request)
    assert outcome.message == SORRY and reference(request) in outcome.hint and "xoxb" not in outcome.hint
    assert request.request_id in caplog.text  # the log line carries the full id to find it by


def test_an_outside_question_is_not_answered_when_open_solicitations_cannot_be_checked() -> None:
    services = Services(blackout_down=True)
    vendor = Request(Who("U9", audience=PUBLIC), Place("C1", "shared", PUBLIC), "ask", "What is it?", door="slack")
    outcome = dispatch(services, vendor)
    assert outcome.status == "error" and "can't check which solicitations are open" in outcome.message
    assert dispatch(services, local_request("ask", "What is it?")).status == "answered"  # staff: no blackout
