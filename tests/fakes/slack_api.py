"""A local fake of the Slack Web API (https://slack.com/api/), so the real slack_sdk client is exercised over HTTP.

Point the app's client at it with ``WebClient(token="xoxb-...", base_url=f"{fake.url}/api/")``. The fake records
every call, answers with JSON shaped like Slack's (the java-slack-sdk json-logs samples in ../shared/slack), checks
outgoing Block Kit against Slack's published limits (../shared/slack/LIMITS.md) and answers ``invalid_blocks`` when
one is broken, serves file downloads and response_urls, and can be told to fail or stall per method.

``sign`` and ``load_payload`` help with the other direction: signed requests from "Slack" to the app under test.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.fakes.http import loopback_server, send

SHARED_SLACK = Path(__file__).resolve().parents[3] / "shared" / "slack"
BOLT_PAYLOADS = SHARED_SLACK / "payloads" / "bolt"

# Slack's limits (LIMITS.md rows 5-7 and 10, and slack_sdk's validators).
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
BLOCK_ID_MAX = 255
VIEW_TITLE_MAX = 24

MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
VIEW_METHODS = frozenset({"views.open", "views.publish", "views.update", "views.push"})

# Pseudo-method names for the non-API routes, recorded in the same ``calls`` list (real methods always have a dot).
RESPONSE_URL = "response_url"
FILE_DOWNLOAD = "file_download"


@dataclass
class Call:
    """One request the fake received: Web API call, response_url post or file download."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    http_method: str = "POST"
    path: str = ""
    violations: list[str] = field(default_factory=list)
    response: Any = None  # the JSON the fake answered with (or the text, for response_urls and downloads)

    @property
    def view(self) -> dict[str, Any] | None:
        """The ``view`` argument of a views.* call, decoded if it came as a JSON string."""
        view = _decode(self.params.get("view"))
        return view if isinstance(view, dict) else None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message's blocks (or the view's), decoded if they came as a JSON string; [] when there are none."""
        source = self.view.get("blocks") if self.view is not None else self.params.get("blocks")
        blocks = _decode(source)
        return blocks if isinstance(blocks, list) else []

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and bool(self.response.get("ok"))


@dataclass
class FakeSlack:
    """Stands in for slack.com. Configure state and failures on the instance, then run it with ``serve(fake)``.

    * ``threads[(channel, thread_ts)]`` — the messages conversations.replies returns (default: the parent alone).
    * ``history[channel]`` — the messages conversations.history returns, newest first as Slack does
      (a channel with no entry answers ``not_in_channel``).
    * ``files[file_id]`` — ``{"name", "mimetype", "size", "content": bytes, ...}`` for files.info and downloads.
    * ``users[user_id]`` / ``channels[channel_id]`` — fields merged over generated users.info / conversations.info.
    * ``members[channel_id]`` — who conversations.members lists (default: ``W111`` and the bot);
      ``usergroups[group_id]`` — the user ids usergroups.list reports for each user group.
    * ``fail[method] = "error"`` answers ``{"ok": false, "error": ...}`` (``"ratelimited"`` answers HTTP 429);
      ``delay[method] = seconds`` stalls the answer. Both also take ``"response_url"`` and ``"file_download"``.
    * ``token``: when set, only this exact bot token is accepted (others get ``invalid_auth``); by default any
      ``Bearer xoxb-...`` is.
    """

    team_id: str = "T111"
    team_name: str = "CityBridge Test"
    team_domain: str = "citybridge-test"
    bot_user_id: str = "W23456789"
    bot_id: str = "BZYBOTHED"
    bot_name: str = "citybridge"
    app_id: str = "A111"
    token: str = ""
    calls: list[Call] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # what the bot posted, as updated
    reactions: set[tuple[str, str, str]] = field(default_factory=set)  # (channel, ts, name) the bot added
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # opened/published views by id
    fail: dict[str, str] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    socket_url: str = ""  # Socket Mode: what apps.connections.open returns
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _last_ts: float = field(default=0.0, repr=False, compare=False)
    _serial: int = field(default=0, repr=False, compare=False)

    # ----------------------------------------------------------------- helpers for tests

    @property
    def api_url(self) -> str:
        """The ``base_url`` for slack_sdk clients."""
        return f"{self.url}/api/"

    def client(self, token: str | None = None, **kwargs: Any) -> Any:
        """A real ``slack_sdk.WebClient`` pointed at the fake."""
        from slack_sdk import WebClient

        return WebClient(token=token or self.token or "xoxb-test", base_url=self.api_url, **kwargs)

    def response_url(self, token: str) -> str:
        """A response_url (as in slash command and interaction payloads) that posts back to this fake."""
        return f"{self.url}/response/{quote(token, safe='')}"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Poll until ``count`` calls to ``method`` were recorded; return them all. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                with self._lock:
                    seen = [call.method for call in self.calls]
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; recorded: {seen}"
                )
            time.sleep(0.01)

    def violations(self) -> list[str]:
        """Every Block Kit / limit violation seen so far, as ``"method: detail"``."""
        with self._lock:
            return [f"{call.method}: {problem}" for call in self.calls for problem in call.violations]

    def assert_no_violations(self) -> None:
        found = self.violations()
        assert not found, "Slack would have rejected these calls:\n" + "\n".join(found)

    # ----------------------------------------------------------------- request handling (called by the server)

    def handle_api(
        self, method: str, params: dict[str, Any], headers: dict[str, str], http_method: str = "POST", path: str = ""
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one Web API call: (HTTP status, JSON body, extra headers). Records the call."""
        status, extra_headers = 200, {}
        violations: list[str] = []
        handler = self._handlers().get(method)
        auth_error = self._auth_error(headers, app_level=method == "apps.connections.open")
        if handler is None:
            reply = _error("unknown_method")
        elif auth_error:
            reply = _error(auth_error)
        else:
            violations = check_outgoing(method, params)
            if method in self.fail:
                reply = _error(self.fail[method])
                if self.fail[method] == "ratelimited":
                    status, extra_headers = 429, {"Retry-After": "1"}
            elif violations:
                reply = _error(
                    "invalid_blocks",
                    detail="; ".join(violations),
                    errors=violations,
                    response_metadata={"messages": [f"[ERROR] {problem}" for problem in violations]},
                )
            else:
                reply = handler(params)
        self._record(Call(method, params, headers, http_method, path, violations, reply))
        return status, reply, extra_headers

    def handle_response_url(self, token: str, body: bytes, headers: dict[str, str], path: str) -> tuple[int, str]:
        """A POST to a response_url (JSON message body): answers "ok", or Slack's webhook error text."""
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        violations = check_message(params) if isinstance(params, dict) else []
        if not isinstance(params, dict):
            params = {"_raw": body.decode("utf-8", "replace")}
            status, text = 400, "invalid_payload"
        elif RESPONSE_URL in self.fail:
            status, text = 404, self.fail[RESPONSE_URL]
        elif violations:
            status, text = 400, "invalid_blocks"
        else:
            status, text = 200, "ok"
        self._record(Call(RESPONSE_URL, params, headers, "POST", path, violations, text))
        return status, text

    def handle_download(self, file_id: str, headers: dict[str, str], path: str) -> tuple[int, bytes, str]:
        """GET of a file's url_private: the bytes with the bot token, 404 without it (or for unknown files)."""
        spec = self.files.get(file_id)
        if FILE_DOWNLOAD in self.fail:
            status, data, mimetype = 404, self.fail[FILE_DOWNLOAD].encode(), "text/plain"
        elif self._auth_error(headers) or spec is None:
            status, data, mimetype = 404, b"Not Found", "text/plain"
        else:
            data = _content(spec)
            status, mimetype = 200, str(spec.get("mimetype", "application/octet-stream"))
        self._record(Call(FILE_DOWNLOAD, {"file": file_id}, headers, "GET", path, [], status))
        return status, data, mimetype

    # ----------------------------------------------------------------- internals

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _auth_error(self, headers: dict[str, str], *, app_level: bool = False) -> str:
        authorization = headers.get("authorization", "")
        if not authorization.startswith("Bearer xapp-" if app_level else "Bearer xoxb-"):
            return "not_authed"
        if app_level:
            return ""
        if self.token and authorization != f"Bearer {self.token}":
            return "invalid_auth"
        return ""

    def _connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        """Socket Mode: the WebSocket URL the app should connect to (set ``socket_url`` in the test)."""
        return {"ok": True, "url": self.socket_url} if self.socket_url else _error("no_socket_url")

    def next_ts(self) -> str:
        """A fresh, strictly increasing message timestamp in Slack's ``seconds.micros`` form."""
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._serial += 1
            return f"{prefix}{self._serial:08d}"

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "conversations.replies": self._replies,
            "conversations.history": self._history,
            "chat.getPermalink": self._permalink,
            "conversations.info": self._conversation_info,
            "conversations.members": self._members,
            "usergroups.list": self._usergroups,
            "reactions.add": self._reaction_add,
            "reactions.remove": self._reaction_remove,
            "users.info": self._user_info,
            "views.open": self._view_open,
            "views.push": self._view_open,
            "views.publish": self._view_publish,
            "views.update": self._view_update,
            "files.info": self._file_info,
            "assistant.threads.setStatus": self._set_status,
        }

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "bot_profile": {
                "id": self.bot_id,
                "deleted": False,
                "name": self.bot_name,
                "updated": int(time.time()),
                "app_id": self.app_id,
                "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png"},
                "team_id": self.team_id,
            },
        }
        blocks = _decode(params.get("blocks"))
        if isinstance(blocks, list):
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
            message["parent_user_id"] = self.bot_user_id
        metadata = _decode(params.get("metadata"))
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        return message

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        ts = self.next_ts()
        message = self._bot_message(params, ts)
        with self._lock:
            self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        message = self._bot_message(params, ts)
        message.pop("subtype", None)
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        with self._lock:
            previous = self.messages.get((channel, ts), {})
            if "thread_ts" in previous:
                message.setdefault("thread_ts", previous["thread_ts"])
            self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        return {"ok": True, "message_ts": self.next_ts()}

    def _delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        with self._lock:
            self.messages.pop((channel, ts), None)
        return {"ok": True, "channel": channel, "ts": ts}

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("thread_not_found")
        messages = self.threads.get((channel, ts))
        if messages is None:
            messages = [{"type": "message", "user": "W111", "text": "", "ts": ts, "thread_ts": ts, "reply_count": 0}]
        return {
            "ok": True,
            "messages": [dict(message) for message in messages],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        messages = self.history.get(channel)
        if messages is None:
            return _error("not_in_channel")
        limit = int(params.get("limit") or 100)
        return {
            "ok": True,
            "messages": [dict(message) for message in messages[:limit]],
            "has_more": len(messages) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("message_ts") or "")
        if not channel or not ts:
            return _error("channel_not_found" if not channel else "message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _conversation_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel") or "")
        if not channel_id:
            return _error("channel_not_found")
        is_im, is_private = channel_id.startswith("D"), channel_id.startswith("G")
        channel: dict[str, Any] = {
            "id": channel_id,
            "created": 1_600_000_000,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_shared": False,
            "context_team_id": self.team_id,
            "updated": 1_600_000_000,
            "locale": "en-US",
        }
        if is_im:
            channel.update({"is_im": True, "is_channel": False, "is_group": False, "is_private": True, "user": "W111"})
        else:
            name = f"channel-{channel_id.lower()}"
            channel.update(
                {
                    "name": name,
                    "name_normalized": name,
                    "is_channel": not is_private,
                    "is_group": is_private,
                    "is_im": False,
                    "is_mpim": False,
                    "is_private": is_private,
                    "creator": "W111",
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": "", "creator": "", "last_set": 0},
                    "num_members": 3,
                }
            )
        channel.update(self.channels.get(channel_id, {}))
        return {"ok": True, "channel": channel}

    def _members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel") or "")
        if not channel_id:
            return _error("channel_not_found")
        members = self.members.get(channel_id, ["W111", self.bot_user_id])
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _usergroups(self, params: dict[str, Any]) -> dict[str, Any]:
        with_users = str(params.get("include_users", "")).lower() in ("1", "true")
        groups = [
            {"id": gid, "team_id": self.team_id, "handle": gid.lower(), "is_usergroup": True}
            | ({"users": users, "user_count": len(users)} if with_users else {})
            for gid, users in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _reaction_target(self, params: dict[str, Any]) -> tuple[str, str, str] | dict[str, Any]:
        channel, ts, name = (str(params.get(key) or "") for key in ("channel", "timestamp", "name"))
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        if not name:
            return _error("invalid_name")
        return channel, ts, name.strip(":")

    def _reaction_add(self, params: dict[str, Any]) -> dict[str, Any]:
        target = self._reaction_target(params)
        if isinstance(target, dict):
            return target
        with self._lock:
            if target in self.reactions:
                return _error("already_reacted")
            self.reactions.add(target)
        return {"ok": True}

    def _reaction_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        target = self._reaction_target(params)
        if isinstance(target, dict):
            return target
        with self._lock:
            if target not in self.reactions:
                return _error("no_reaction")
            self.reactions.discard(target)
        return {"ok": True}

    def _user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user") or "")
        if not user_id:
            return _error("user_not_found")
        override = self.users.get(user_id, {})
        name = str(override.get("name", f"user-{user_id.lower()}"))
        real_name = str(override.get("real_name", f"User {user_id}"))
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Daylight Time",
            "tz_offset": -25200,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "email": f"{name}@example.gov",
                "team": self.team_id,
                "image_72": "https://secure.gravatar.com/avatar/0.jpg",
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == self.bot_user_id,
            "is_app_user": False,
            "updated": 1_600_000_000,
            "locale": "en-US",
        }
        user.update(override)
        return {"ok": True, "user": user}

    def _view_object(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                stored[key] = view[key]
        with self._lock:
            self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _view_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id") and not params.get("interactivity_pointer"):
            return _error("invalid_arguments")
        view = _decode(params.get("view"))
        return self._view_object(view, self._next_id("V")) if isinstance(view, dict) else _error("invalid_arguments")

    def _view_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user_id"):
            return _error("invalid_arguments")
        view = _decode(params.get("view"))
        return self._view_object(view, self._next_id("V")) if isinstance(view, dict) else _error("invalid_arguments")

    def _view_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id") or "")
        if not view_id and params.get("external_id"):
            with self._lock:
                matches = [key for key, v in self.views.items() if v.get("external_id") == params["external_id"]]
            if not matches:
                return _error("not_found")
            view_id = matches[0]
        if not view_id:
            return _error("invalid_arguments")
        view = _decode(params.get("view"))
        return self._view_object(view, view_id) if isinstance(view, dict) else _error("invalid_arguments")

    def _file_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file") or "")
        spec = self.files.get(file_id)
        if spec is None:
            return _error("file_not_found")
        name = str(spec.get("name", f"{file_id}.bin"))
        suffix = PurePosixPath(name).suffix.lstrip(".").lower() or "binary"
        file: dict[str, Any] = {
            "id": file_id,
            "created": 1_652_227_642,
            "timestamp": 1_652_227_642,
            "name": name,
            "title": name,
            "mimetype": spec.get("mimetype", "application/octet-stream"),
            "filetype": suffix,
            "pretty_type": suffix.upper(),
            "user": "W111",
            "user_team": self.team_id,
            "editable": False,
            "size": spec.get("size", len(_content(spec))),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.url}/files/{quote(file_id)}",
            "url_private_download": f"{self.url}/files/{quote(file_id)}/download/{quote(name)}",
            "permalink": f"https://{self.team_domain}.slack.com/files/W111/{file_id}/{quote(name)}",
            "has_rich_preview": False,
        }
        file.update({key: value for key, value in spec.items() if key not in {"content", "size"}})
        return {"ok": True, "file": file, "comments": [], "response_metadata": {"next_cursor": ""}}

    def _set_status(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel_id") or not params.get("thread_ts") or "status" not in params:
            return _error("invalid_arguments")
        return {"ok": True}


# --------------------------------------------------------------------- Block Kit checks


def check_outgoing(method: str, params: dict[str, Any]) -> list[str]:
    """What Slack would reject in this call's message or view (empty when it is fine)."""
    if method in MESSAGE_METHODS:
        return check_message(params)
    if method in VIEW_METHODS:
        return check_view(params.get("view"), home=method == "views.publish")
    return []


def check_message(params: dict[str, Any]) -> list[str]:
    """Limits on a message payload (chat.* arguments or a response_url body)."""
    problems: list[str] = []
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        problems.append(f"text is {len(text)} characters (max {MESSAGE_TEXT_MAX})")
    if params.get("blocks") is not None:
        problems += check_blocks(params["blocks"], MESSAGE_MAX_BLOCKS)
    return problems


def check_view(raw: Any, *, home: bool = False) -> list[str]:
    view = _decode(raw)
    if not isinstance(view, dict):
        return ["view must be a JSON object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        problems.append(f"view type must be modal or home, not {kind!r}")
    if home and kind != "home":
        problems.append("views.publish only takes a home view")
    if kind == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or not 1 <= len(str(title.get("text", ""))) <= VIEW_TITLE_MAX:
            problems.append(f"a modal needs a plain_text title of 1-{VIEW_TITLE_MAX} characters")
    if "blocks" not in view:
        problems.append("view.blocks is required")
    else:
        blocks = _decode(view["blocks"])
        problems += check_blocks(blocks, VIEW_MAX_BLOCKS)
        has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if kind == "modal" and has_input and "submit" not in view:
            problems.append("a modal with input blocks needs a submit button")
    try:  # slack_sdk's View checks title/submit/close lengths, private_metadata (3000) and callback_id (255)
        model = View(**{key: value for key, value in view.items() if key != "blocks"})
        model.blocks = None  # type: ignore[assignment]  # checked one by one above, with better messages
        model.validate_json()
    except Exception as exc:
        problems.append(f"view: {exc}")
    return problems


def check_blocks(raw: Any, max_blocks: int) -> list[str]:
    """Limits on a list of blocks, then slack_sdk's own model validation of each block."""
    blocks = _decode(raw)
    if isinstance(blocks, str):
        return ["blocks is not valid JSON"]
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (max {max_blocks})")
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"{where} must be an object with a type")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > BLOCK_ID_MAX:
                problems.append(f"{where}.block_id is {len(str(block_id))} characters (max {BLOCK_ID_MAX})")
            if block_id in seen_ids:
                problems.append(f"{where}.block_id {block_id!r} is repeated")
            seen_ids.add(str(block_id))
        problems += [f"{where} ({block['type']}): {problem}" for problem in _check_block(block)]
        problems += [f"{where} ({block['type']}): {problem}" for problem in _sdk_check(block)]
    return problems


def _check_block(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = block["type"]
    if kind == "section":
        if "text" not in block and not block.get("fields"):
            problems.append("section needs text or fields")
        if "text" in block:
            problems += _check_text(block["text"], "text", SECTION_TEXT_MAX)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS_MAX:
            problems.append(f"{len(fields)} fields (max {SECTION_FIELDS_MAX})")
        for number, item in enumerate(fields):
            problems += _check_text(item, f"fields[{number}]", SECTION_FIELD_TEXT_MAX)
    elif kind == "header":
        problems += _check_text(block.get("text"), "text", HEADER_TEXT_MAX, plain_only=True)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements:
            problems.append("context needs at least one element")
        if len(elements) > CONTEXT_ELEMENTS_MAX:
            problems.append(f"{len(elements)} elements (max {CONTEXT_ELEMENTS_MAX})")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements:
            problems.append("actions needs at least one element")
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            problems.append(f"{len(elements)} elements (max {ACTIONS_ELEMENTS_MAX})")
    for button in _find(block, "button"):
        text = button.get("text")
        label = text.get("text", "") if isinstance(text, dict) else ""
        if len(str(label)) > BUTTON_TEXT_MAX:
            problems.append(f"button text is {len(str(label))} characters (max {BUTTON_TEXT_MAX})")
    return problems


def _check_text(text: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    allowed = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    if not isinstance(text, dict) or text.get("type") not in allowed or not isinstance(text.get("text"), str):
        return [f"{where} must be a text object of type {' or '.join(sorted(allowed))}"]
    length = len(text["text"])
    if length == 0:
        return [f"{where} must be more than 0 characters"]
    if length > limit:
        return [f"{where} is {length} characters (max {limit})"]
    return []


def _sdk_check(block: dict[str, Any]) -> list[str]:
    """Build the block with slack_sdk's models and run their validators (to_dict validates nested elements)."""
    try:
        parsed = Block.parse(dict(block))
        if parsed is None:
            return [f"slack_sdk does not know block type {block['type']!r}"]
        parsed.validate_json()
        parsed.to_dict()
    except Exception as exc:
        return [f"slack_sdk: {type(exc).__name__}: {exc}"]
    return []


def _find(node: Any, kind: str) -> Iterator[dict[str, Any]]:
    """Every nested object whose type is ``kind``."""
    if isinstance(node, dict):
        if node.get("type") == kind:
            yield node
        for value in node.values():
            yield from _find(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from _find(value, kind)


def _decode(value: Any) -> Any:
    """Form bodies carry blocks, views and metadata as JSON strings; JSON bodies carry them as they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def _content(spec: dict[str, Any]) -> bytes:
    content = spec.get("content", b"")
    return content.encode() if isinstance(content, str) else bytes(content)


# --------------------------------------------------------------------- HTTP plumbing


def _parse_body(body: bytes, content_type: str) -> dict[str, Any] | None:
    """Form, JSON or multipart body -> params (None when the JSON is broken)."""
    if not body:
        return {}
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    if media == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            params[str(name)] = payload if part.get_filename() else payload.decode("utf-8", "replace")
        return params
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def _route(self, verb: str) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            url = urlsplit(self.path)
            parts = [unquote(part) for part in url.path.split("/") if part]
            if len(parts) == 2 and parts[0] == "api":
                method = parts[1]
                parsed = _parse_body(body, headers.get("content-type", ""))
                if parsed is None:
                    self._send_json(200, _error("invalid_json"))
                    return
                params = {**dict(parse_qsl(url.query, keep_blank_values=True)), **parsed}
                status, reply, extra = fake.handle_api(method, params, headers, verb, self.path)
                self._pause(method)
                self._send_json(status, reply, extra)
            elif len(parts) == 2 and parts[0] == "response" and verb == "POST":
                status, text = fake.handle_response_url(parts[1], body, headers, self.path)
                self._pause(RESPONSE_URL)
                self._send(status, text.encode(), "text/html")
            elif len(parts) >= 2 and parts[0] == "files" and verb == "GET":
                status, data, mimetype = fake.handle_download(parts[1], headers, self.path)
                self._pause(FILE_DOWNLOAD)
                self._send(status, data, mimetype)
            else:
                self._send(404, f"no route {verb} {self.path}".encode(), "text/plain")

        def _pause(self, name: str) -> None:
            seconds = fake.delay.get(name, 0.0)
            if seconds:
                time.sleep(seconds)

        def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

        def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            send(self, status, data, content_type, headers)

    return Handler


@contextmanager
def serve(fake: FakeSlack) -> Iterator[FakeSlack]:
    """Run the fake on a free loopback port for the duration of the block; ``fake.url`` is its root."""
    with loopback_server(_handler(fake)) as url:
        fake.url = url
        yield fake


# --------------------------------------------------------------------- requests from "Slack" to the app


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers that make ``body`` a validly signed Slack request (v0 HMAC-SHA256 over ``v0:{ts}:{body}``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def load_payload(name: str) -> dict[str, Any] | str:
    """A request body from ../shared/slack/payloads/bolt: JSON files parsed, form-encoded .txt files as the raw string.

    ``name`` is a file name there; if it does not exist, ``name.json`` then ``name.form-urlencoded.txt`` are tried.
    """
    candidates = [BOLT_PAYLOADS / name, BOLT_PAYLOADS / f"{name}.json", BOLT_PAYLOADS / f"{name}.form-urlencoded.txt"]
    for path in candidates:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                loaded: dict[str, Any] = json.loads(text)
                return loaded
            return text
    raise FileNotFoundError(f"no Slack payload {name!r} in {BOLT_PAYLOADS} (is ../shared beside the repo?)")
