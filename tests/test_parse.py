"""Which Slack events the bot answers, and how it reads them; plus the app manifests.

Payloads follow Slack's documented examples (docs.slack.dev/reference/events/app_mention,
.../message/file_share, .../message/message_changed, the Slack Connect ``check_file_info`` file
stub) and bolt-python's own test payloads. Builders come first, the tests after.
"""

from __future__ import annotations

import copy
import unicodedata
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.types import IncomingMessage, SlackFile, ThreadKey
from handlers.manifest_facts import SCOPE_FOR_EVENT
from handlers.parse import (
    BOT_SCOPES,
    EVENT_TYPES_HANDLED,
    SUBSCRIBED_EVENTS,
    ActionRequest,
    action_for,
    channel_file_share_for,
    file_mention_names,
    incoming_message_for,
    readable_text,
    unmentioned_reply_thread_for,
)

ROOT = Path(__file__).resolve().parent.parent
BOT = "U0LAN0Z89"
TEAM = "T123ABC456"
ALICE = "U061F7AUR"
CHANNEL = "C0CHAN0001"
TS = "1715000000.000100"
PARENT = "1714999000.000200"


# ---------------------------------------------------------------- payload builders


def envelope(
    event: dict[str, Any], *, event_id: str | None = "Ev0MENTION01", ext_shared: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": "XXYYZZ",
        "team_id": TEAM,
        "api_app_id": "A123ABC456",
        "event": event,
        "type": "event_callback",
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "event_time": 1715000000,
        "is_ext_shared_channel": ext_shared,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }
    if event_id:
        body["event_id"] = event_id
    return body


def app_mention(
    text: str,
    *,
    files: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    channel: str = CHANNEL,
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": ALICE,
        "text": text,
        "ts": TS,
        "channel": channel,
        "event_ts": TS,
        "client_msg_id": "883e5317-28e3-4ef8-9385-b88343560de6",
        "team": TEAM,
        "blocks": [],
    }
    if files:
        event.update(files=copy.deepcopy(files), upload=False, display_as_bot=False)
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=ALICE)
    event.update(extra)
    return event


def message_event(
    text: str,
    *,
    subtype: str | None = None,
    files: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    channel: str = CHANNEL,
    channel_type: str = "channel",
    user: str | None = ALICE,
    **extra: Any,
) -> dict[str, Any]:
    # Like Slack's file_share examples, no "team" field: the envelope names the workspace.
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": TS,
        "event_ts": TS,
        "channel": channel,
        "channel_type": channel_type,
    }
    if user:
        event["user"] = user
    if subtype:
        event["subtype"] = subtype
    if files:
        event.update(files=copy.deepcopy(files), upload=False, display_as_bot=False)
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=ALICE)
    event.update(extra)
    return event


def dm(text: str, **kwargs: Any) -> dict[str, Any]:
    return message_event(text, channel="D0DM000001", channel_type="im", **kwargs)


def message_changed() -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            "type": "message",
            "text": f"<@{BOT}> updated question",
            "user": ALICE,
            "edited": {"user": ALICE, "ts": "1715000050.000000"},
            "ts": TS,
        },
        "previous_message": {"type": "message", "text": "question", "user": ALICE, "ts": TS},
        "channel": CHANNEL,
        "hidden": True,
        "ts": "1715000050.000400",
        "event_ts": "1715000050.000400",
        "channel_type": "channel",
    }


def message_deleted() -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": CHANNEL,
        "ts": "1715000060.000500",
        "deleted_ts": TS,
        "event_ts": "1715000060.000500",
        "previous_message": {"type": "message", "user": ALICE, "text": "oops", "ts": TS},
        "channel_type": "channel",
    }


def hosted(name: str) -> dict[str, Any]:
    """A file object as a file_share message carries it (shape of Slack's own example)."""
    file_id = "F0SALESCSV" if name == "sales.csv" else f"F0{zlib.crc32(name.encode()):010d}"
    ext = name.rsplit(".", 1)[-1].lower()
    mimetype = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "png": "image/png",
    }.get(ext, "text/plain")
    return {
        "id": file_id,
        "created": 1714999990,
        "timestamp": 1714999990,
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "filetype": ext,
        "pretty_type": ext.upper(),
        "user": ALICE,
        "user_team": TEAM,
        "editable": False,
        "size": 2048,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": True,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/{name}",
        "url_private_download": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/download/{name}",
        "media_display_type": "unknown",
        "permalink": f"https://example.slack.com/files/{ALICE}/{file_id}/{name}",
        "has_rich_preview": False,
        "file_access": "visible",
    }


def connect_stub(file_id: str) -> dict[str, Any]:
    """A Slack Connect file as events deliver it: properties only through files.info."""
    return {
        "id": file_id,
        "mode": "file_access",
        "file_access": "check_file_info",
        "created": 0,
        "timestamp": 0,
        "user": "",
    }


def block_actions() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "name": "alice", "team_id": TEAM},
        "api_app_id": "A123ABC456",
        "token": "verification_token",
        "container": {
            "type": "message",
            "message_ts": "1715000100.000300",
            "channel_id": CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": "111.222.valid",
        "team": {"id": TEAM, "domain": "workspace-domain"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": CHANNEL, "name": "data"},
        "message": {
            "type": "message",
            "user": BOT,
            "bot_id": "B0BOT00001",
            "text": "Working on it…",
            "ts": "1715000100.000300",
            "thread_ts": PARENT,
        },
        "response_url": "https://hooks.slack.com/actions/T123ABC456/111/random-value",
        "actions": [
            {
                "action_id": "stop_turn",
                "block_id": "b",
                "text": {"type": "plain_text", "text": "Stop", "emoji": True},
                "value": "turn-42",
                "type": "button",
                "action_ts": "1715000105.194939",
            }
        ],
    }


def parse(body: dict[str, Any], answered: bool | None = None) -> IncomingMessage | None:
    return incoming_message_for(body=body, bot_user_id=BOT, answered_thread=answered)


# ---------------------------------------------------------------- mentions in channels


@pytest.mark.parametrize("files", [[], ["sales_2024.csv", "지역별_매출.xlsx"]])
def test_app_mention_in_a_channel_is_a_question_with_its_files(files: list[str]) -> None:
    body = envelope(
        app_mention(f"<@{BOT}> what were total sales by region?", files=[hosted(n) for n in files])
    )

    message = parse(body)

    assert message is not None
    assert message.thread == ThreadKey(team=TEAM, channel=CHANNEL, thread_ts=TS)
    assert (message.ts, message.user, message.text) == (
        TS,
        ALICE,
        "what were total sales by region?",
    )
    assert [f.name for f in message.files] == files
    assert all(f.url_private_download and not f.needs_info for f in message.files)
    assert message.is_mention and message.channel_type == "channel"
    assert message.event_id == "Ev0MENTION01"


def test_mention_inside_a_thread_answers_in_that_thread() -> None:
    body = envelope(app_mention(f"<@{BOT}> and per month?", thread_ts=PARENT))

    message = parse(body)

    assert message is not None and message.thread.thread_ts == PARENT and message.ts == TS


@pytest.mark.parametrize(("channel", "kind"), [("C0CHAN0001", "channel"), ("G0PRIV0001", "group")])
def test_app_mention_channel_type_comes_from_the_channel_id(channel: str, kind: str) -> None:
    message = parse(envelope(app_mention(f"<@{BOT}> hi", channel=channel)))

    assert message is not None and message.channel_type == kind


def test_mention_delivered_only_as_a_file_share_message_reads_the_same() -> None:
    text = f"<@{BOT}> chart monthly revenue"
    files = [hosted("revenue.csv")]
    from_mention = parse(envelope(app_mention(text, files=files), event_id="Ev0MENTION01"))
    from_message = parse(
        envelope(message_event(text, subtype="file_share", files=files), event_id="Ev0MESSAGE01")
    )

    assert from_mention is not None and from_message is not None
    assert replace(from_message, event_id=None) == replace(from_mention, event_id=None)
    assert (from_mention.event_id, from_message.event_id) == ("Ev0MENTION01", "Ev0MESSAGE01")


# ---------------------------------------------------------------- direct messages


@pytest.mark.parametrize(
    ("event", "thread_ts", "file_names"),
    [
        pytest.param(dm("how many rows?"), TS, [], id="plain top-level"),
        pytest.param(
            dm("summarise this", subtype="file_share", files=[hosted("q1.xlsx")]),
            TS,
            ["q1.xlsx"],
            id="file_share top-level",
        ),
        pytest.param(dm("and by store?", thread_ts=PARENT), PARENT, [], id="reply in a DM thread"),
    ],
)
def test_every_dm_from_a_person_counts(
    event: dict[str, Any], thread_ts: str, file_names: list[str]
) -> None:
    message = parse(envelope(event))

    assert message is not None and message.is_dm and not message.is_mention
    assert message.thread == ThreadKey(team=TEAM, channel="D0DM000001", thread_ts=thread_ts)
    assert [f.name for f in message.files] == file_names


# ---------------------------------------------------------------- follow-ups in channel threads


@pytest.mark.parametrize(
    ("answered", "expected"), [(True, "and for 2023?"), (False, None), (None, None)]
)
def test_reply_without_mention_counts_only_in_an_answered_thread(
    answered: bool | None, expected: str | None
) -> None:
    body = envelope(message_event("and for 2023?", thread_ts=PARENT))

    message = parse(body, answered=answered)

    assert (message.text if message else None) == expected
    assert unmentioned_reply_thread_for(body=body, bot_user_id=BOT) == ThreadKey(
        team=TEAM, channel=CHANNEL, thread_ts=PARENT
    )


def test_reply_also_sent_to_the_channel_is_a_normal_reply() -> None:
    body = envelope(message_event("same for Q2", thread_ts=PARENT, subtype="thread_broadcast"))

    message = parse(body, answered=True)

    assert message is not None and message.thread.thread_ts == PARENT


def test_reply_addressed_to_a_colleague_is_left_to_them() -> None:
    body = envelope(message_event("<@U0ANN00001> does this match your numbers?", thread_ts=PARENT))

    assert parse(body, answered=True) is None


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(message_event("lunch?"), id="top-level channel chatter"),
        pytest.param(message_event(f"<@{BOT}> hi", thread_ts=PARENT), id="reply with a mention"),
        pytest.param(dm("and by store?", thread_ts=PARENT), id="DM reply"),
        pytest.param(app_mention(f"<@{BOT}> hi", thread_ts=PARENT), id="app_mention"),
    ],
)
def test_no_thread_lookup_needed_when_the_mention_or_place_decides(event: dict[str, Any]) -> None:
    assert unmentioned_reply_thread_for(body=envelope(event), bot_user_id=BOT) is None


def test_group_dm_needs_a_mention_like_a_channel() -> None:
    plain = envelope(message_event("anyone?", channel="G0MPIM0001", channel_type="mpim"))
    mention = envelope(message_event(f"<@{BOT}> hi", channel="G0MPIM0001", channel_type="mpim"))

    assert parse(plain, answered=True) is None
    message = parse(mention)
    assert message is not None and message.channel_type == "mpim" and message.is_mention


# ---------------------------------------------------------------- which workspace


def test_file_share_without_team_field_uses_the_installation_team() -> None:
    event = message_event(f"<@{BOT}> look", subtype="file_share", files=[hosted("a.csv")])
    assert "team" not in event

    message = parse(envelope(event))

    assert message is not None and message.thread.team == TEAM


def test_slack_connect_sender_from_another_workspace_keeps_our_team() -> None:
    event = app_mention(f"<@{BOT}> totals?")
    event.update(team="T0PARTNER01", user_team="T0PARTNER01", source_team="T0PARTNER01")
    body = envelope(event, ext_shared=True)

    message = parse(body)

    assert message is not None and message.thread.team == TEAM


def test_envelope_team_of_another_workspace_yields_to_the_installation() -> None:
    # bolt-python's shared-channel payloads: envelope team_id T_SOURCE, authorizations ours.
    body = envelope(app_mention(f"<@{BOT}> totals?"), ext_shared=True)
    body["team_id"] = "T0PARTNER01"

    message = parse(body)

    assert message is not None and message.thread.team == TEAM


def test_org_wide_install_falls_back_to_the_envelope_team() -> None:
    body = envelope(app_mention(f"<@{BOT}> totals?"))
    body["authorizations"][0].update(team_id=None, is_enterprise_install=True)

    message = parse(body)

    assert message is not None and message.thread.team == TEAM


# ---------------------------------------------------------------- ignored events


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            message_event("Here is the chart", user=BOT, bot_id="B0BOT00001"), id="own message"
        ),
        pytest.param(dm("done", user=BOT, bot_id="B0BOT00001"), id="own DM reply"),
        pytest.param(
            message_event(
                f"<@{BOT}> build report", subtype="bot_message", bot_id="B0OTHER001", user=None
            ),
            id="other bot",
        ),
        pytest.param(
            app_mention(f"<@{BOT}> ping", bot_id="B0OTHER001", user="U0OTHERBOT"),
            id="other bot mention",
        ),
        pytest.param(message_changed(), id="edit"),
        pytest.param(message_deleted(), id="deletion"),
        pytest.param(
            message_event(f"<@{ALICE}> has joined the channel", subtype="channel_join"),
            id="channel_join",
        ),
        pytest.param(dm("secret", hidden=True), id="hidden"),
        pytest.param({"type": "reaction_added", "user": ALICE}, id="other event type"),
    ],
)
def test_events_not_written_by_a_person_are_ignored(event: dict[str, Any]) -> None:
    assert parse(envelope(event), answered=True) is None


# ---------------------------------------------------------------- files


def test_slack_connect_file_stub_needs_files_info() -> None:
    event = message_event(
        f"<@{BOT}> what's in it?", subtype="file_share", files=[connect_stub("F0STUB0001")]
    )

    message = parse(envelope(event, ext_shared=True))

    assert message is not None
    assert message.files == (
        SlackFile(id="F0STUB0001", name="F0STUB0001", needs_info=True, user=None, created=None),
    )


def test_file_marked_check_file_info_needs_files_info_even_with_fields() -> None:
    partial = {**hosted("connect.csv"), "file_access": "check_file_info"}

    message = parse(envelope(dm("x", subtype="file_share", files=[partial]), ext_shared=True))

    assert message is not None and message.files[0].needs_info


def test_unreadable_files_are_left_out_quietly() -> None:
    files = [
        hosted("keep.csv"),
        {"id": "F0GONE0001", "mode": "tombstone"},
        {"id": "F0LIMIT001", "mode": "hidden_by_limit"},
        {"id": "F0DENY0001", "file_access": "access_denied"},
    ]
    message = parse(envelope(dm("use these", subtype="file_share", files=files)))

    assert message is not None and [f.name for f in message.files] == ["keep.csv"]


def test_file_fields_are_translated() -> None:
    message = parse(envelope(dm("x", subtype="file_share", files=[hosted("sales.csv")])))

    assert message is not None
    assert message.files[0] == SlackFile(
        id="F0SALESCSV",
        name="sales.csv",
        size=2048,
        mimetype="text/csv",
        filetype="csv",
        url_private_download=f"https://files.slack.com/files-pri/{TEAM}-F0SALESCSV/download/sales.csv",
        needs_info=False,
        user=ALICE,
        created=1714999990.0,
        user_team=TEAM,  # the sharer's workspace, for telling external people apart
    )


def test_mention_carrying_only_file_ids_asks_for_file_info() -> None:
    message = parse(envelope(app_mention(f"<@{BOT}> hey", files=[{"id": "F111"}])))

    assert message is not None and message.files[0].needs_info


def test_korean_question_and_macos_decomposed_file_name() -> None:
    decomposed = unicodedata.normalize("NFD", "지역별_매출.xlsx")
    event = app_mention(f"<@{BOT}> 지역별_매출.xlsx로 월별 합계 알려줘", files=[hosted(decomposed)])

    message = parse(envelope(event))

    assert message is not None
    assert message.text == "지역별_매출.xlsx로 월별 합계 알려줘"
    assert message.files[0].name == "지역별_매출.xlsx"  # NFC, so it matches what people type
    assert message.named_files == ("지역별_매출.xlsx",)


# ---------------------------------------------------------------- question text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"<@{BOT}> sum of sales", "sum of sales"),
        (f"<@{BOT}|insightbot>: sum of sales", "sum of sales"),
        (f"hey <@{BOT}>, what's the median?", "hey what's the median?"),
        (f"thanks <@{BOT}>!", "thanks!"),
        (f"  <@{BOT}>   rows   where a &gt; 3 &amp;&amp; b &lt; 2  ", "rows where a > 3 && b < 2"),
        (
            "see <https://example.com/q?a=1&amp;b=2|the spec>",
            "see the spec (https://example.com/q?a=1&b=2)",
        ),
        ("see <https://example.com/x>", "see https://example.com/x"),
        ("see <https://example.com|example.com>", "see https://example.com"),
        ("ask <@U0ANN00001|ann> or <@U0BEN00001>", "ask @ann or @U0BEN00001"),
        ("from <#C0SALES001|sales> and <!here>", "from #sales and @here"),
        ("mail <mailto:ann@example.com|ann@example.com>", "mail ann@example.com"),
        ("<!subteam^S0DATA0001|@data-team> FYI", "@data-team FYI"),
        ("line one\n\n\n\nline two  ", "line one\n\nline two"),
        ("typed &amp;lt; literally", "typed &lt; literally"),
        (f"<@{BOT}>\u00a0분기별 매출 추이를 차트로 그려줘", "분기별 매출 추이를 차트로 그려줘"),
        (f"<@{BOT}>", ""),
    ],
)
def test_question_text_reads_as_the_person_wrote_it(raw: str, expected: str) -> None:
    assert readable_text(raw, bot_user_id=BOT) == expected


# ---------------------------------------------------------------- files named in the question


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("use sales_2024.csv please", ("sales_2024.csv",)),
        ("매출.xlsx 로 해줘", ("매출.xlsx",)),
        ("매출.xlsx로 해줘", ("매출.xlsx",)),
        ("compare a.csv with B.TSV and a.CSV", ("a.csv", "B.TSV")),
        ("open 'Q1 sales.xlsx' then `log.json`", ("Q1 sales.xlsx", "log.json")),
        ("(see data.parquet), then plot.png.", ("data.parquet", "plot.png")),
        ("download https://example.com/files/raw.csv?x=1", ("raw.csv",)),
        ("v1.2.csv and report.csvx and notes.csv.bak", ("v1.2.csv",)),
        ("convert it to .csv or xlsx", ()),
        ("지난달 매출 알려줘", ()),
    ],
)
def test_file_names_mentioned_in_the_question(text: str, names: tuple[str, ...]) -> None:
    assert file_mention_names(text) == names


# ---------------------------------------------------------------- files shared at channel top level


def test_top_level_file_share_in_a_channel_is_remembered() -> None:
    event = message_event("Q3 numbers", subtype="file_share", files=[hosted("q3.csv")])

    share = channel_file_share_for(body=envelope(event), bot_user_id=BOT)

    assert share is not None
    key, user, files = share
    assert key == ThreadKey(team=TEAM, channel=CHANNEL, thread_ts=TS)
    assert user == ALICE and [f.name for f in files] == ["q3.csv"]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            message_event("here", subtype="file_share", files=[hosted("a.csv")], thread_ts=PARENT),
            id="thread reply",
        ),
        pytest.param(dm("here", subtype="file_share", files=[hosted("a.csv")]), id="DM"),
        pytest.param(
            message_event(
                "here",
                subtype="file_share",
                files=[hosted("a.csv")],
                channel="G0MPIM0001",
                channel_type="mpim",
            ),
            id="group DM",
        ),
        pytest.param(
            message_event(
                "chart", subtype="file_share", files=[hosted("c.png")], user=BOT, bot_id="B0BOT0001"
            ),
            id="the bot's own upload",
        ),
        pytest.param(
            message_event("gone", subtype="file_share", files=[{"id": "F1", "mode": "tombstone"}]),
            id="only deleted files",
        ),
        pytest.param(message_event("no files here"), id="plain message"),
    ],
)
def test_other_file_shares_are_not_channel_files(event: dict[str, Any]) -> None:
    assert channel_file_share_for(body=envelope(event), bot_user_id=BOT) is None


def test_private_channel_top_level_share_is_remembered() -> None:
    event = message_event(
        "fyi",
        subtype="file_share",
        files=[hosted("a.csv")],
        channel="G0PRIV0001",
        channel_type="group",
    )

    share = channel_file_share_for(body=envelope(event))

    assert share is not None and share[0].channel == "G0PRIV0001"


# ---------------------------------------------------------------- button clicks


def test_button_click_in_a_thread() -> None:
    request = action_for(body=block_actions())

    assert request == ActionRequest(
        action_id="stop_turn",
        value="turn-42",
        user=ALICE,
        team=TEAM,
        channel=CHANNEL,
        message_ts="1715000100.000300",
        thread_ts=PARENT,
        response_url="https://hooks.slack.com/actions/T123ABC456/111/random-value",
        trigger_id="111.222.valid",  # opens a modal (the Repeat button's)
    )


def test_button_click_on_an_ephemeral_message_threads_on_the_message() -> None:
    body = block_actions()
    del body["message"]
    body["container"]["is_ephemeral"] = True

    request = action_for(body=body)

    assert request is not None and request.thread_ts == request.message_ts == "1715000100.000300"


def test_button_click_from_an_org_wide_install_names_the_users_team() -> None:
    body = block_actions()
    body["team"] = None

    request = action_for(body=body)

    assert request is not None and request.team == TEAM


@pytest.mark.parametrize(
    "body",
    [
        {"type": "view_submission", "user": {"id": ALICE}},
        {**block_actions(), "actions": []},
        {**block_actions(), "channel": None, "container": {"type": "view", "view_id": "V1"}},
    ],
)
def test_other_interactions_are_not_button_clicks(body: dict[str, Any]) -> None:
    assert action_for(body=body) is None


# ---------------------------------------------------------------- manifests


def load_manifest(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_subscribes_to_what_the_code_handles() -> None:
    manifest = load_manifest("manifest.yml")
    events = tuple(manifest["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])

    assert events == SUBSCRIBED_EVENTS
    assert set(EVENT_TYPES_HANDLED) == set(events)
    assert "file_shared" not in events
    assert scopes == set(BOT_SCOPES)
    assert {SCOPE_FOR_EVENT[e] for e in events} - {None} <= scopes
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["display_information"]["name"] == "insightbot"
    assert len(manifest["display_information"]["description"]) <= 140


def test_http_manifest_differs_only_in_transport() -> None:
    socket = load_manifest("manifest.yml")
    http = load_manifest("manifest.http.yml")

    url = "https://YOUR-HOST/slack/events"
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"].pop("request_url") == url
    assert http["settings"]["interactivity"].pop("request_url") == url
    http["settings"]["socket_mode_enabled"] = True
    assert http == socket
