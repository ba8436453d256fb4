"""Consistency checks instead of prose that goes stale: manifests ⇔ listeners ⇔ API calls ⇔
scopes, and the import layering of DESIGN.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from bot import messages
from handlers.manifest_facts import (
    BOT_SCOPES,
    FORGET_SHORTCUT,
    SCOPE_FOR_EVENT,
    SUBSCRIBED_EVENTS,
)
from tests.fakes.slack_payloads import (
    app_context_changed,
    app_home_opened,
    app_mention,
    message,
    message_action,
)
from tests.harness import harness

ROOT = Path(__file__).parent.parent
MANIFESTS = ("manifest.yml", "manifest.http.yml")

# Every Slack Web API method the code calls, with the bot scope it needs (None: no scope).
SCOPE_FOR_METHOD = {
    "auth_test": None,
    "apps_connections_open": None,  # app-level token with connections:write
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    "chat_startStream": "chat:write",
    "chat_appendStream": "chat:write",
    "chat_stopStream": "chat:write",
    "assistant_threads_setStatus": "chat:write",
    "assistant_threads_setSuggestedPrompts": "assistant:write",  # the Messages tab (agent_view)
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "files_info": "files:read",
    "files_list": "files:read",  # the newest file of a channel for a recurring analysis
    "files_getUploadURLExternal": "files:write",
    "files_completeUploadExternal": "files:write",
    "conversations_replies": "channels:history",
    "views_publish": None,  # the App Home tab
    "views_open": None,  # the channel settings modal
    "users_info": "users:read",  # a person's locale for the App Home, time zone, active
    "conversations_members": "channels:read",  # a schedule's owner is still in the channel
    "conversations_info": "channels:read",  # a schedule's channel is not archived
}


def _manifest(name: str) -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_events_and_scopes_match_what_the_code_handles(name: str) -> None:
    manifest = _manifest(name)
    settings = manifest["settings"]
    scopes = manifest["oauth_config"]["scopes"]["bot"]  # type: ignore[index]
    assert tuple(settings["event_subscriptions"]["bot_events"]) == SUBSCRIBED_EVENTS  # type: ignore[index]
    assert set(scopes) == set(BOT_SCOPES)
    for event in SUBSCRIBED_EVENTS:
        assert SCOPE_FOR_EVENT[event] is None or SCOPE_FOR_EVENT[event] in scopes
    assert settings["interactivity"]["is_enabled"] is True  # type: ignore[index]


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_app() -> None:
    socket, http = _manifest("manifest.yml"), _manifest("manifest.http.yml")
    assert socket["settings"]["socket_mode_enabled"] is True  # type: ignore[index]
    assert http["settings"]["socket_mode_enabled"] is False  # type: ignore[index]
    assert http["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")  # type: ignore[index]
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")  # type: ignore[index]
    for key in ("display_information", "features", "oauth_config"):
        assert socket[key] == http[key]


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_manifests_use_the_agent_view_with_the_catalogues_fallback_prompts(name: str) -> None:
    features = _manifest(name)["features"]
    assert "assistant_view" not in features  # type: ignore[operator]
    agent = features["agent_view"]  # type: ignore[index]
    assert agent["agent_description"].strip()
    shown = [(p["title"], p["message"]) for p in agent["suggested_prompts"]]
    # Slack shows up to four; the manifest's are those of a person whose language is unknown.
    assert shown == list(messages.messages_tab_prompts(None)) and len(shown) <= 4


def _called_slack_methods() -> set[str]:
    called = set()
    for path in (ROOT / "bot" / "slack").glob("*.py"):
        called |= set(
            re.findall(r"_client\.([a-z]+_[A-Za-z_0-9]+)", path.read_text(encoding="utf-8"))
        )
    return called


def test_every_slack_method_the_code_calls_is_covered_by_a_manifest_scope() -> None:
    called = _called_slack_methods()
    unknown = called - set(SCOPE_FOR_METHOD)
    assert not unknown, f"add these methods and their scopes to SCOPE_FOR_METHOD: {unknown}"
    scopes = set(_manifest("manifest.yml")["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    for method in called:
        needed = SCOPE_FOR_METHOD[method]
        assert needed is None or needed in scopes, f"{method} needs {needed}"


@pytest.mark.parametrize(
    "event",
    [
        app_mention(channel="C1", user="U1", text="<@UBOT>"),
        message(channel="C1", user="U1", text="chatter"),  # message.channels
        message(channel="G1", user="U1", text="chatter"),  # message.groups
        message(channel="D1", user="U1", text=""),  # message.im (empty: nothing to answer)
        {**message(channel="M1", user="U1", text="chatter"), "channel_type": "mpim"},
        {"type": "message", "subtype": "channel_join", "channel": "C1", "user": "U3", "ts": "1.1"},
        app_home_opened(user="U1", channel="D1", tab="home"),
        app_home_opened(user="U1", channel="D1", tab="messages"),
        app_context_changed(channel="C1"),
    ],
)
async def test_every_subscribed_event_is_answered_200_never_404(
    tmp_path: Path, event: dict[str, object]
) -> None:
    async with harness(tmp_path) as h:
        assert await h.send_event(event) == 200


_OWNERS = {
    "openai": ("bot/engines/openai/", "bot/engines/local/chat.py"),
    "slack_sdk": ("bot/slack/",),
    "slack_bolt": ("handlers/",),
    "sqlite_utils": ("storage/",),
    "sqlite3": ("storage/",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_gateway_modules_import_the_sdks() -> None:
    offenders = []
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            for library, owners in _OWNERS.items():
                if library in _imports(path) and not relative.startswith(owners):
                    offenders.append(f"{relative} imports {library}")
    assert not offenders, offenders


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_manifests_message_shortcut_is_the_one_the_code_handles(name: str) -> None:
    shortcuts = _manifest(name)["features"]["shortcuts"]  # type: ignore[index]
    assert [(s["type"], s["callback_id"]) for s in shortcuts] == [("message", FORGET_SHORTCUT)]
    assert all(len(s["name"]) <= 24 and len(s["description"]) <= 150 for s in shortcuts)


async def test_the_message_shortcut_is_answered_200(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        payload = message_action(
            callback_id=FORGET_SHORTCUT, user="U1", channel="C1", message_ts="1.1"
        )
        assert await h.click(payload) == 200
        await h.settle()
