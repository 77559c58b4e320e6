"""Who is asking and who else can read the answer, from Slack itself (cached briefly, failing closed).

Staff are members of the home workspace (or grid) who are not guests. A person from another organisation
(Slack Connect: their team differs, or ``is_stranger``) and a guest (``is_restricted``,
``is_ultra_restricted``) see public material only. A channel caps what any answer in it may show:
shared and public channels get public material; a private channel gets internal material when none of
its members is from outside; a DM gets what its person may see. Whenever Slack cannot be asked, the
answer is public material only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.request import Place, PlaceKind, Who
from knowledge.visibility import PUBLIC, STAFF, Audience

logger = logging.getLogger(__name__)

MAX_MEMBERS_CHECKED = 200  # a private channel larger than this is treated as having outside members


class _Cache:
    """Answers kept for ``ttl`` seconds; failures are not kept (the next request asks again)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        value = load()
        if value is not None:
            with self._lock:
                self._items[key] = (now, value)
        return value


class AudienceResolver:
    def __init__(self, client: WebClient, *, home_teams: Iterable[str] = (), ttl: float = 300.0) -> None:
        self._client = client
        self._home = frozenset(home_teams)
        self._cache = _Cache(ttl)

    # -- the person ---------------------------------------------------------------------------------

    def who(self, user_id: str, *, team: str, enterprise: str = "", user_team: str = "") -> Who:
        """``team``/``enterprise``: where the app is installed (the payload's); ``user_team``: the person's,
        when the payload says (Slack Connect events do)."""
        home = self._home or frozenset(t for t in (team, enterprise) if t)
        if not user_id:
            return Who(audience=PUBLIC)
        user = self._user(user_id)
        if user is None:
            return Who(user_id=user_id, team=user_team, audience=PUBLIC)  # fail closed
        their_team = str(user.get("team_id") or user_team or "")
        profile = user.get("profile") or {}
        name = str(profile.get("display_name") or user.get("real_name") or user.get("name") or "")
        outside = (
            bool(user.get("is_stranger"))
            or bool(user.get("is_restricted"))
            or bool(user.get("is_ultra_restricted"))
            or bool(user_team and user_team not in home)
            or bool(their_team and their_team not in home and str(user.get("enterprise_id") or "") not in home)
        )
        if outside:
            return Who(user_id=user_id, name=name, team=their_team, audience=PUBLIC)
        return Who(user_id=user_id, name=name, team=their_team, audience=Audience("internal", self._groups(user_id)))

    def _user(self, user_id: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self._client.users_info(user=user_id).get("user") or {}) or None
            except SlackApiError as exc:
                logger.warning("users.info %s failed (%s): answering with public material", user_id, _error(exc))
                return None

        found: dict[str, Any] | None = self._cache.get(f"user:{user_id}", load)
        return found

    def _groups(self, user_id: str) -> frozenset[str]:
        """The person's own id and the user groups they belong to: what ``restricted:`` names."""

        def load() -> dict[str, list[str]] | None:
            try:
                groups = self._client.usergroups_list(include_users=True).get("usergroups") or []
            except SlackApiError as exc:
                logger.info("usergroups.list failed (%s): restricted material only by user id", _error(exc))
                return {}
            return {str(g.get("id")): [str(u) for u in g.get("users") or []] for g in groups}

        memberships: dict[str, list[str]] = self._cache.get("usergroups", load) or {}
        return frozenset({user_id, *(gid for gid, users in memberships.items() if user_id in users)})

    # -- the place ----------------------------------------------------------------------------------

    def place(self, channel_id: str, *, team: str, enterprise: str = "", thread_ts: str = "") -> Place:
        if not channel_id:
            return Place(kind="public", ceiling=PUBLIC)
        info = self._channel(channel_id)
        if info is None:
            return Place(channel_id, "public", PUBLIC, thread_ts)  # fail closed
        kind = _kind(info)
        if kind == "dm":
            return Place(channel_id, "dm", None, thread_ts)
        if kind == "private" and self._members_all_staff(channel_id, team=team, enterprise=enterprise):
            return Place(channel_id, "private", STAFF, thread_ts)
        return Place(channel_id, kind, PUBLIC, thread_ts)

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self._client.conversations_info(channel=channel_id).get("channel") or {}) or None
            except SlackApiError as exc:
                logger.warning("conversations.info %s failed (%s): public material only", channel_id, _error(exc))
                return None

        found: dict[str, Any] | None = self._cache.get(f"channel:{channel_id}", load)
        return found

    def _members_all_staff(self, channel_id: str, *, team: str, enterprise: str) -> bool:
        def load() -> list[str] | None:
            try:
                response = self._client.conversations_members(channel=channel_id, limit=MAX_MEMBERS_CHECKED)
            except SlackApiError as exc:
                logger.warning("conversations.members %s failed (%s)", channel_id, _error(exc))
                return None
            if (response.get("response_metadata") or {}).get("next_cursor"):
                return None  # more members than we check: assume someone is from outside
            return [str(m) for m in response.get("members") or []]

        members: list[str] | None = self._cache.get(f"members:{channel_id}", load)
        if members is None:
            return False
        return all(self.who(m, team=team, enterprise=enterprise).is_staff for m in members)


def _kind(channel: dict[str, Any]) -> PlaceKind:
    if channel.get("is_im"):
        return "dm"
    if channel.get("is_ext_shared") or channel.get("is_shared") or channel.get("is_pending_ext_shared"):
        return "shared"
    if channel.get("is_private") or channel.get("is_group") or channel.get("is_mpim"):
        return "private"
    return "public"


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") if exc.response is not None else exc)
