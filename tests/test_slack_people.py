"""Who a person is and where they belong, through the real AsyncWebClient and the fake Slack:
what a schedule's access check and its time-zone default rely on."""

from __future__ import annotations

import pytest

from bot.errors import SlackProblem
from bot.slack.client import build_web_client
from bot.slack.gateway import SlackGateway
from bot.types import ChannelState
from tests.fakes.slack_server import FakeSlack


@pytest.fixture
def gateway(slack_fake: FakeSlack) -> SlackGateway:
    client = build_web_client(token=slack_fake.bot_token, base_url=slack_fake.api_url)
    return SlackGateway(client=client, bot_token=slack_fake.bot_token)


async def test_a_person_has_a_name_time_zone_and_locale_until_deactivated(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    slack_fake.add_user("U0ANNA", name="anna", real_name="Anna Kim", tz="America/New_York",
                        locale="ko-KR")  # fmt: skip
    anna = await gateway.person("U0ANNA")
    assert anna.active and anna.name == "anna" and anna.tz == "America/New_York"
    assert anna.locale == "ko-KR" and anna.team == slack_fake.team_id
    slack_fake.deactivate_user("U0ANNA")
    assert not (await gateway.person("U0ANNA")).active
    # Someone Slack does not know is no active member either.
    assert not (await gateway.person("U0NOBODY")).active


async def test_membership_is_read_across_pages(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    crowd = {f"U{n:05d}" for n in range(450)}  # more than two pages of 200
    slack_fake.channel_members["C0BIG"] = crowd | {"U0LAST"}
    assert await gateway.is_channel_member(channel="C0BIG", user="U0LAST")
    assert not await gateway.is_channel_member(channel="C0BIG", user="U0GONE")
    pages = slack_fake.calls_to("conversations.members")
    assert len(pages) >= 3 and all(int(c.args.get("limit", 0)) <= 200 for c in pages)


async def test_a_channel_is_active_archived_or_gone(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    assert await gateway.channel_state("C0SALES") is ChannelState.ACTIVE
    slack_fake.archived.add("C0SALES")
    assert await gateway.channel_state("C0SALES") is ChannelState.ARCHIVED
    slack_fake.deleted_channels.add("C0SALES")
    assert await gateway.channel_state("C0SALES") is ChannelState.GONE


async def test_without_the_read_scopes_the_check_fails_loudly_not_open(
    gateway: SlackGateway,
) -> None:
    async with FakeSlack(scopes=["chat:write", "users:read"]) as narrow:
        client = build_web_client(token=narrow.bot_token, base_url=narrow.api_url)
        limited = SlackGateway(client=client, bot_token=narrow.bot_token)
        with pytest.raises(SlackProblem):
            await limited.is_channel_member(channel="C0SALES", user="U1")
        with pytest.raises(SlackProblem):
            await limited.channel_state("G0PRIVATE")


async def test_a_message_to_a_person_lands_in_their_direct_messages(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    slack_fake.add_user("U0ANNA", name="anna")
    await gateway.post_message(channel="U0ANNA", thread_ts=None, text="paused")
    assert [m.text for m in slack_fake.channel_messages(slack_fake.dm_channel_of("U0ANNA"))] == [
        "paused"
    ]
    slack_fake.archived.add("C0OLD")
    with pytest.raises(SlackProblem):
        await gateway.post_message(channel="C0OLD", thread_ts=None, text="hello")
