"""The fake Slack Web API answers like Slack, records calls, and rejects what Slack would reject (loopback only)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack_api import BOLT_PAYLOADS, FakeSlack, check_blocks, load_payload, serve, sign


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve(FakeSlack()) as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=f"{fake.url}/api/", timeout=5)


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": f"act-{label[:10]}"}


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ------------------------------------------------------------------ auth and routing


def test_auth_test_answers_with_the_bot_identity(fake: FakeSlack, client: WebClient) -> None:
    reply = client.auth_test()
    assert reply["ok"] is True
    assert (reply["user_id"], reply["bot_id"], reply["team_id"]) == (fake.bot_user_id, fake.bot_id, fake.team_id)
    [call] = fake.calls_to("auth.test")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.ok


def test_calls_without_a_bot_token_are_not_authed(fake: FakeSlack) -> None:
    assert error_of(WebClient(base_url=fake.api_url).auth_test) == "not_authed"
    assert error_of(WebClient(token="xoxp-user", base_url=fake.api_url).auth_test) == "not_authed"
    fake.token = "xoxb-right"
    assert error_of(WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test) == "invalid_auth"
    assert WebClient(token="xoxb-right", base_url=fake.api_url).auth_test()["ok"]


def test_unknown_methods_and_routes(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.nonsense")) == "unknown_method"
    assert get(f"{fake.url}/elsewhere")[0] == 404


def test_get_requests_and_query_parameters_are_understood(fake: FakeSlack) -> None:
    status, body = get(f"{fake.url}/api/users.info?user=W222", token="xoxb-test")
    assert status == 200
    assert json.loads(body)["user"]["id"] == "W222"
    [call] = fake.calls_to("users.info")
    assert (call.http_method, call.params) == ("GET", {"user": "W222"})


# ------------------------------------------------------------------ messages and Block Kit


def test_post_message_with_valid_blocks_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Vendor answer"}},
        section("*Plain language:* the vendor hosts it.", block_id="answer"),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{n}*"} for n in range(10)]},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Source: TS-05"}]},
        {"type": "actions", "elements": [button("Helpful"), button("Not helpful")]},
    ]
    reply = client.chat_postMessage(channel="C111", text="fallback", blocks=blocks, thread_ts="1595926230.009600")
    assert reply["ok"] and reply["channel"] == "C111"
    assert reply["message"]["blocks"] == blocks
    assert reply["message"]["thread_ts"] == "1595926230.009600"
    [call] = fake.wait_for("chat.postMessage")
    assert call.blocks == blocks
    assert call.params["text"] == "fallback"
    assert call.violations == []
    fake.assert_no_violations()
    assert fake.messages[("C111", reply["ts"])]["text"] == "fallback"


def test_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C111", text=str(n))["ts"] for n in range(5)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


def test_an_oversize_section_is_rejected_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C111", text="long", blocks=[section("x" * 3001)])
    assert raised.value.response["error"] == "invalid_blocks"
    assert "3001" in raised.value.response["detail"]
    [call] = fake.calls_to("chat.postMessage")
    assert call.violations and "max 3000" in call.violations[0]
    with pytest.raises(AssertionError, match="3001"):
        fake.assert_no_violations()


def test_fifty_one_blocks_are_rejected_but_fifty_pass(fake: FakeSlack, client: WebClient) -> None:
    assert client.chat_postMessage(channel="C111", text="t", blocks=[section(f"{n}") for n in range(50)])["ok"]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C111", text="t", blocks=[section(f"{n}") for n in range(51)])
    assert any("51 blocks (max 50)" in problem for problem in fake.violations())


def test_views_allow_a_hundred_blocks_but_not_more(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section(f"{n}") for n in range(100)]}
    assert client.views_publish(user_id="W111", view=home)["view"]["type"] == "home"
    home["blocks"].append(section("one too many"))
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.views_publish(user_id="W111", view=home)
    assert "101 blocks (max 100)" in fake.calls_to("views.publish")[-1].violations[0]


def test_form_encoded_blocks_arrive_as_json_strings_and_are_checked(fake: FakeSlack, client: WebClient) -> None:
    good = [section("hello")]
    assert client.api_call("chat.postMessage", params={"channel": "C111", "blocks": json.dumps(good)})["ok"]
    assert fake.calls_to("chat.postMessage")[0].blocks == good
    assert client.api_call("chat.postMessage", data={"channel": "C111", "blocks": json.dumps(good)})["ok"]
    assert fake.calls_to("chat.postMessage")[1].params == {"channel": "C111", "blocks": json.dumps(good)}
    bad = json.dumps([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    assert error_of(lambda: client.api_call("chat.update", params={"channel": "C1", "ts": "1.2", "blocks": bad})) == (
        "invalid_blocks"
    )
    assert "max 150" in fake.calls_to("chat.update")[0].violations[0]


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "max 150"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "11 fields (max 10)"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "max 2000"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "11 elements (max 10)"),
        ([{"type": "actions", "elements": [button(str(n)) for n in range(26)]}], "26 elements (max 25)"),
        ([{"type": "actions", "elements": [button("b" * 76)]}], "button text is 76 characters"),
        ([section("s", accessory=button("b" * 76))], "button text is 76 characters"),
        ([section("s", block_id="i" * 256)], "block_id is 256 characters"),
        ([section("s", block_id="same"), section("t", block_id="same")], "'same' is repeated"),
        ([section("")], "more than 0 characters"),
        ([{"type": "section", "text": "not an object"}], "must be a text object"),
        ([{"type": "no_such_block"}], "does not know block type"),
        ([{"type": "image", "image_url": "https://example.gov/a.png"}], "slack_sdk: TypeError"),
        ("[not json", "not valid JSON"),
        ({"type": "section"}, "must be an array"),
    ],
)
def test_block_limits(blocks: Any, expected: str) -> None:
    problems = check_blocks(blocks, 50)
    assert any(expected in problem for problem in problems), problems


def test_valid_blocks_have_no_problems() -> None:
    fields = [{"type": "plain_text", "text": "f" * 2000}] * 10
    blocks = [
        section("s" * 3000, block_id="b" * 255, accessory=button("b" * 75)),
        {"type": "section", "fields": fields},
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button(f"{n}") for n in range(25)]},
    ]
    assert check_blocks(blocks, 50) == []


def test_message_text_over_forty_thousand_characters_is_a_violation(fake: FakeSlack, client: WebClient) -> None:
    assert client.chat_postMessage(channel="C111", text="t" * 40_000)["ok"]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postEphemeral(channel="C111", user="W111", text="t" * 40_001)
    assert "40001 characters" in fake.violations()[0]


def test_modal_checks_title_and_submit(fake: FakeSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Ask CityBridge"},
        "blocks": [
            {
                "type": "input",
                "block_id": "q",
                "label": {"type": "plain_text", "text": "Question"},
                "element": {"type": "plain_text_input", "action_id": "q"},
            }
        ],
    }
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.views_open(trigger_id="111.222.valid", view=modal)
    assert "submit" in fake.violations()[0]
    modal["submit"] = {"type": "plain_text", "text": "Ask"}
    opened = client.views_open(trigger_id="111.222.valid", view=modal)["view"]
    updated = client.views_update(view_id=opened["id"], view={**modal, "private_metadata": "m"})["view"]
    assert (updated["id"], updated["private_metadata"]) == (opened["id"], "m")
    with pytest.raises(SlackApiError, match="private_metadata"):
        client.views_update(view_id=opened["id"], view={**modal, "private_metadata": "m" * 3001})
    modal["title"] = {"type": "plain_text", "text": "t" * 25}
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.views_open(trigger_id="111.222.valid", view=modal)


def test_the_other_methods_answer_like_slack(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C111", text="Thinking…", thread_ts="1.000001")
    updated = client.chat_update(channel="C111", ts=posted["ts"], text="Answer")
    assert updated["message"]["text"] == "Answer" and "edited" in updated["message"]
    assert fake.messages[("C111", posted["ts"])]["thread_ts"] == "1.000001"
    assert client.chat_postEphemeral(channel="C111", user="W111", text="only you")["message_ts"]
    assert client.chat_delete(channel="C111", ts=posted["ts"])["ts"] == posted["ts"]
    assert ("C111", posted["ts"]) not in fake.messages

    assert client.reactions_add(channel="C111", timestamp="1.000001", name="eyes")["ok"]
    assert error_of(lambda: client.reactions_add(channel="C111", timestamp="1.000001", name="eyes")) == (
        "already_reacted"
    )
    assert client.reactions_remove(channel="C111", timestamp="1.000001", name="eyes")["ok"]
    assert error_of(lambda: client.reactions_remove(channel="C111", timestamp="1.000001", name="eyes")) == (
        "no_reaction"
    )

    fake.users["W111"] = {"real_name": "Pat Planner"}
    assert client.users_info(user="W111")["user"]["real_name"] == "Pat Planner"
    assert client.users_info(user=fake.bot_user_id)["user"]["is_bot"] is True
    assert client.conversations_info(channel="D111")["channel"]["is_im"] is True
    assert client.conversations_info(channel="C111")["channel"]["is_channel"] is True
    status = client.assistant_threads_setStatus(channel_id="D111", thread_ts="1.000001", status="is thinking…")
    assert status["ok"]
    assert fake.calls_to("assistant.threads.setStatus")[0].params["status"] == "is thinking…"
    assert error_of(lambda: client.api_call("chat.postMessage", json={"channel": "C111"})) == "no_text"
    fake.assert_no_violations()


# ------------------------------------------------------------------ threads, files, response_url


def test_replies_come_from_configured_threads(fake: FakeSlack, client: WebClient) -> None:
    thread = [
        {"type": "message", "user": "W222", "text": "What is FedRAMP?", "ts": "1.000001", "thread_ts": "1.000001"},
        {"type": "message", "user": fake.bot_user_id, "text": "A US cloud standard.", "ts": "1.000002"},
    ]
    fake.threads[("C111", "1.000001")] = thread
    assert client.conversations_replies(channel="C111", ts="1.000001")["messages"] == thread
    [parent] = client.conversations_replies(channel="C111", ts="9.000009")["messages"]
    assert parent["ts"] == "9.000009"


def test_files_info_and_download_need_the_bot_token(fake: FakeSlack, client: WebClient) -> None:
    fake.files["F111"] = {"name": "rfp.txt", "mimetype": "text/plain", "content": b"Section 1. Scope."}
    file = client.files_info(file="F111")["file"]
    assert (file["name"], file["mimetype"], file["size"], file["filetype"]) == ("rfp.txt", "text/plain", 17, "txt")
    assert file["url_private"] == f"{fake.url}/files/F111"
    assert "content" not in file
    assert get(file["url_private"], token="xoxb-test") == (200, b"Section 1. Scope.")
    assert get(file["url_private_download"], token="xoxb-test") == (200, b"Section 1. Scope.")
    assert get(file["url_private"])[0] == 404
    assert get(f"{fake.url}/files/F999", token="xoxb-test")[0] == 404
    assert [call.response for call in fake.calls_to("file_download")] == [200, 200, 404, 404]
    assert error_of(lambda: client.files_info(file="F999")) == "file_not_found"


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("T111/111/xxxxx")
    reply = WebhookClient(url).send(text="Working on it", response_type="ephemeral")
    assert (reply.status_code, reply.body) == (200, "ok")
    [call] = fake.wait_for("response_url")
    assert call.params == {"text": "Working on it", "response_type": "ephemeral"}
    assert call.path == "/response/T111%2F111%2Fxxxxx"
    too_many = WebhookClient(url).send(text="t", blocks=[section(f"{n}") for n in range(51)])
    assert (too_many.status_code, too_many.body) == (400, "invalid_blocks")
    assert "51 blocks" in fake.violations()[0]


# ------------------------------------------------------------------ failure injection and waiting


def test_fail_option_returns_the_error(fake: FakeSlack, client: WebClient) -> None:
    fake.fail["chat.postMessage"] = "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C111", text="hi")) == "channel_not_found"
    fake.fail["reactions.add"] = "ratelimited"
    with pytest.raises(SlackApiError) as raised:
        client.reactions_add(channel="C111", timestamp="1.0", name="eyes")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    fake.fail["response_url"] = "expired_url"
    assert WebhookClient(fake.response_url("old")).send(text="late").status_code == 404
    del fake.fail["chat.postMessage"]
    assert client.chat_postMessage(channel="C111", text="hi")["ok"]


def test_delay_option_stalls_the_answer_but_the_call_is_seen_at_once(fake: FakeSlack, client: WebClient) -> None:
    fake.delay["chat.postMessage"] = 0.3
    started = time.monotonic()
    worker = threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C111", "text": "slow"})
    worker.start()
    fake.wait_for("chat.postMessage", timeout=2)
    assert worker.is_alive()
    worker.join(timeout=5)
    assert time.monotonic() - started >= 0.3
    quick = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=0.1)
    fake.delay["auth.test"] = 0.5
    with pytest.raises(OSError):
        quick.auth_test()


def test_wait_for_times_out_with_the_recorded_methods(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"chat\.postMessage.*'auth\.test'"):
        fake.wait_for("chat.postMessage", timeout=0.1)
    assert len(fake.wait_for("auth.test")) == 1


# ------------------------------------------------------------------ signing and payloads


def test_sign_matches_slack_sdk_signature_verifier() -> None:
    body = b"token=verification_token&team_id=T111&command=%2Fhello-world&text=Hi"
    headers = sign(body, "signing-secret")
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert signature.startswith("v0=")
    assert SignatureVerifier("signing-secret").is_valid(body, timestamp, signature)
    assert not SignatureVerifier("other-secret").is_valid(body, timestamp, signature)
    stale = sign(body, "signing-secret", timestamp=int(time.time()) - 301)
    assert not SignatureVerifier("signing-secret").is_valid(
        body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    )
    fixed = sign(body, "signing-secret", timestamp=1_600_000_000)
    assert fixed["X-Slack-Request-Timestamp"] == "1600000000"


def test_load_payload_reads_json_and_form_bodies() -> None:
    if not BOLT_PAYLOADS.is_dir():
        pytest.skip(f"the shared Slack payloads are not beside the repo ({BOLT_PAYLOADS})")
    mention = load_payload("event_callback.app_mention.json")
    assert isinstance(mention, dict) and mention["event"]["type"] == "app_mention"
    assert load_payload("event_callback.app_mention") == mention
    slash = load_payload("slash_command.form-urlencoded.txt")
    assert isinstance(slash, str) and "command=%2Fhello-world" in slash
    assert load_payload("slash_command") == slash
    with pytest.raises(FileNotFoundError):
        load_payload("no_such_payload")
