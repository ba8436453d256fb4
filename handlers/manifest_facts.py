"""What manifest.yml and manifest.http.yml promise Slack, in one place the listeners can check.

A test keeps the manifests, these constants and the registered Bolt listeners in step: every
subscribed event needs a listener (Slack retries an event Bolt answers with 404), and every
scope we ask for should be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# settings.event_subscriptions.bot_events, in manifest order.
SUBSCRIBED_EVENTS: tuple[str, ...] = (
    "app_context_changed",
    "app_home_opened",
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "message.mpim",
)

# Manifest event name -> the event ``type`` Bolt dispatches on (``app.event(...)``). Bolt refuses
# ``app.event("message.im")``: every ``message.*`` subscription arrives as type ``message`` and is
# told apart by ``event.channel_type``.
EVENT_TYPES_HANDLED: Mapping[str, str] = MappingProxyType(
    {
        "app_context_changed": "app_context_changed",
        "app_home_opened": "app_home_opened",
        "app_mention": "app_mention",
        "message.channels": "message",
        "message.groups": "message",
        "message.im": "message",
        "message.mpim": "message",
    }
)

# oauth_config.scopes.bot, each with the reason we ask for it.
BOT_SCOPES: Mapping[str, str] = MappingProxyType(
    {
        "app_mentions:read": "receive app_mention",
        "assistant:write": "agent_view: assistant.threads.setSuggestedPrompts in the Messages tab",
        "channels:history": "message.channels: follow-ups in answered threads",
        "groups:history": "message.groups: the same in private channels",
        "im:history": "message.im: direct messages",
        "mpim:history": "message.mpim: group direct messages",
        "chat:write": "answers, progress, streaming, assistant.threads.setStatus",
        "files:read": "files.info and downloading url_private_download",
        "files:write": "charts and result files via the external upload steps",
        "reactions:write": "the 'working on it' reaction",
        "users:read": "users.info: a person's locale (the App Home in their language), time zone "
        "(a new schedule's default) and whether a schedule's owner is still active",
        "channels:read": "conversations.members/info: a schedule's owner is still in its public "
        "channel, and the channel is not archived, at every run",
        "groups:read": "the same for private channels",
    }
)

# The scope each subscription needs; Slack refuses a manifest whose events lack their scope.
SCOPE_FOR_EVENT: Mapping[str, str | None] = MappingProxyType(
    {
        # Sent only to apps with agent_view (which asks for assistant:write); the reference
        # page names no scope of its own.
        "app_context_changed": "assistant:write",
        "app_home_opened": None,  # needs no scope, only the Home tab
        "app_mention": "app_mentions:read",
        "message.channels": "channels:history",
        "message.groups": "groups:history",
        "message.im": "im:history",
        "message.mpim": "mpim:history",
    }
)

# features.shortcuts: the message shortcut "Forget this thread" (callback_id), so that people
# need not remember the words ("forget", "잊어줘").
FORGET_SHORTCUT = "forget_thread"
