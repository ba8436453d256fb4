"""Builders for Slack event and interaction payloads, shaped like the examples in Slack's docs.

Sources: the event reference pages (app_mention, message, message/file_share,
message_changed, message_deleted, bot_message, app_home_opened, app_context_changed), the
block_actions payload reference, and bolt-python's scenario tests that copy them. Pure
functions: they store nothing. ``FakeSlack.post_user_message`` stores a message and returns
its event fields, which ``event_callback`` wraps.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

TEAM_ID = "T0FAKE"
APP_ID = "A0FAKE"
BOT_USER_ID = "UBOT"
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def new_ts() -> str:
    """A message timestamp for payloads not stored in the fake (e.g. edits, other bots)."""
    micros = int(time.time() * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def channel_type_of(channel: str) -> str:
    """Slack's ``channel_type`` from the id prefix: C channel, G group, D im."""
    return {"C": "channel", "G": "group", "D": "im"}.get(channel[:1], "channel")


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's clients attach to a typed message, mentions as user elements."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for match in _MENTION.finditer(text):
        if match.start() > pos:
            elements.append({"type": "text", "text": text[pos : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        pos = match.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """The Events API envelope (the body over HTTP, the ``payload`` over Socket Mode)."""
    event_time = int(float(event.get("event_ts") or event.get("ts") or time.time()))
    return {
        "token": "fake-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def message(
    *,
    channel: str,
    user: str,
    text: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    files: Sequence[dict[str, Any]] = (),
    team_id: str = TEAM_ID,
    parent_user_id: str | None = None,
) -> dict[str, Any]:
    """A ``message`` event a person typed; with ``files`` it is subtype ``file_share``.

    Like real file_share events, those lack the ``team`` field.
    """
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": rich_text_blocks(text) if text else [],
        "client_msg_id": str(uuid.uuid4()),
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type_of(channel),
    }
    if files:
        event.update(subtype="file_share", files=list(files), upload=False, display_as_bot=False)
    else:
        event["team"] = team_id
    if thread_ts and thread_ts != ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = parent_user_id or user
    return event


def file_share_message_lacking_team(**kwargs: Any) -> dict[str, Any]:
    """A file_share ``message`` event (never has ``team``); needs ``files``."""
    event = message(**kwargs)
    if "files" not in event:
        raise ValueError("a file_share message needs files")
    return event


def app_mention(
    *,
    channel: str,
    user: str,
    text: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    files: Sequence[dict[str, Any]] = (),
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """An ``app_mention`` event; carries ``files`` when the message had attachments."""
    return as_app_mention(
        message(
            channel=channel,
            user=user,
            text=text,
            ts=ts,
            thread_ts=thread_ts,
            files=files,
            team_id=team_id,
        ),
        team_id=team_id,
    )


def as_app_mention(event: dict[str, Any], *, team_id: str = TEAM_ID) -> dict[str, Any]:
    """The ``app_mention`` twin of a ``message`` event (Slack sends both for one message)."""
    mention = {k: v for k, v in event.items() if k not in ("subtype", "channel_type")}
    mention["type"] = "app_mention"
    mention.setdefault("team", team_id)
    return mention


def message_changed(
    *,
    channel: str,
    new_message: dict[str, Any],
    previous_message: dict[str, Any],
    ts: str | None = None,
) -> dict[str, Any]:
    """A ``message_changed`` event (hidden); ``message`` holds the edited message."""
    ts = ts or new_ts()
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": new_message,
        "channel": channel,
        "previous_message": previous_message,
        "event_ts": ts,
        "ts": ts,
        "channel_type": channel_type_of(channel),
    }


def message_deleted(
    *, channel: str, deleted_ts: str, previous_message: dict[str, Any], ts: str | None = None
) -> dict[str, Any]:
    """A ``message_deleted`` event (hidden)."""
    ts = ts or new_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel,
        "ts": ts,
        "deleted_ts": deleted_ts,
        "event_ts": ts,
        "previous_message": previous_message,
        "channel_type": channel_type_of(channel),
    }


def bot_message(
    *,
    channel: str,
    text: str,
    bot_id: str = "B0OTHER",
    ts: str | None = None,
    thread_ts: str | None = None,
    user: str | None = None,
    app_id: str = "A0OTHER",
) -> dict[str, Any]:
    """Another bot's message: with ``user`` the modern app-bot shape (no subtype, bot_id and
    bot_profile), without it the legacy ``bot_message`` subtype."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": ts,
        "bot_id": bot_id,
        "app_id": app_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type_of(channel),
    }
    if user:
        event["user"] = user
        event["team"] = TEAM_ID
        event["bot_profile"] = {"id": bot_id, "app_id": app_id, "name": "other bot"}
    else:
        event["subtype"] = "bot_message"
        event["username"] = "other bot"
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def block_actions(
    *,
    action_id: str,
    value: str,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    block_id: str = "actions",
    team_id: str = TEAM_ID,
    message_blocks: Sequence[dict[str, Any]] = (),
    button_text: str = "Button",
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button click on a message in a channel."""
    msg: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "ts": message_ts,
        "bot_id": "BBOT",
        "app_id": APP_ID,
        "text": "",
        "team": team_id,
        "blocks": list(message_blocks),
    }
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if thread_ts:
        msg["thread_ts"] = thread_ts
        container["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "user", "name": "user", "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "container": container,
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.fake",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "fake-channel"},
        "message": msg,
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{team_id}/1/fake",
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": new_ts(),
            }
        ],
    }


def interactive_form_body(payload: dict[str, Any]) -> str:
    """How Slack posts interactions over HTTP: a form body ``payload=<url-encoded JSON>``."""
    return f"payload={quote(json.dumps(payload))}"


def app_home_opened(*, user: str, channel: str, tab: str = "messages") -> dict[str, Any]:
    """An ``app_home_opened`` event; ``tab`` is "messages" or "home"."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": new_ts(),
    }
    if tab == "home":
        event["view"] = {"id": "V0FAKE", "team_id": TEAM_ID, "type": "home", "blocks": []}
    return event


def app_context_changed(*, channel: str = "C0DATA") -> dict[str, Any]:
    """An ``app_context_changed`` event (agent_view only) as docs.slack.dev's reference page
    shows it: what the person is looking at, most relevant first; no user or channel field."""
    entity = {"type": "slack#/types/channel_id", "value": channel, "team_id": TEAM_ID}
    return {"type": "app_context_changed", "context": {"entities": [entity]}}


def feedback_click(
    *,
    value: str,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    action_id: str = "answer_feedback",
    block_id: str = "feedback",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on a feedback_buttons element (👍 or 👎): the
    action is of type ``feedback_buttons`` and carries the clicked button's value and text."""
    payload = block_actions(
        action_id=action_id,
        value=value,
        user=user,
        channel=channel,
        message_ts=message_ts,
        thread_ts=thread_ts,
        block_id=block_id,
        team_id=team_id,
    )
    emoji = "👎" if value.startswith("down") else "👍"
    payload["actions"] = [
        {
            "type": "feedback_buttons",
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "text": {"type": "plain_text", "text": emoji, "emoji": True},
            "action_ts": new_ts(),
        }
    ]
    return payload


def view_block_actions(
    *, action_id: str, value: str, user: str, view_id: str = "V0HOME", team_id: str = TEAM_ID
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button in a view (the App Home): its container is the
    view, there is no channel or message, and ``trigger_id`` may open a modal."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "user", "name": "user", "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.fake",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": view_id, "team_id": team_id, "type": "home", "blocks": []},
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"{action_id}:block",
                "text": {"type": "plain_text", "text": "Button", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": new_ts(),
            }
        ],
    }


def view_submission(
    *,
    user: str,
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    team_id: str = TEAM_ID,
    private_metadata: str = "",
) -> dict[str, Any]:
    """A ``view_submission`` payload: ``values`` is ``view.state.values`` (block id → action
    id → the element's state, e.g. ``{"type": "plain_text_input", "value": "…"}``) and
    ``private_metadata`` what the app put in the view when it opened it."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "user": {"id": user, "username": "user", "name": "user", "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.fake",
        "view": {
            "id": "V0MODAL",
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": uuid.uuid4().hex[:16],
            "app_id": APP_ID,
            "bot_id": "BBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_action(
    *,
    callback_id: str,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    text: str = "",
    message_user: str = BOT_USER_ID,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``message_action`` payload: someone used a message shortcut on a message."""
    msg: dict[str, Any] = {"type": "message", "user": message_user, "ts": message_ts, "text": text}
    if thread_ts:
        msg["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "token": "fake-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "user": {"id": user, "username": "user", "name": "user", "team_id": team_id},
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.fake",
        "response_url": f"https://hooks.slack.com/app/{team_id}/{uuid.uuid4().int % 10**12}/fake",
        "message_ts": message_ts,
        "message": msg,
    }
