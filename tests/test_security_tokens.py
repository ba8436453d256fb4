"""The bot token only goes to Slack's file hosts; links to files outside Slack are refused.

Slack documents that a remote file's ``url_private`` (Google Drive and other linked files, any
app's ``files.remote.add``) is the file's external URL on any host, and warns never to send a
token there. Here a second server (``ForeignHost``) stands for that host: it records every
request, and answers with CSV bytes, so a download that should not happen would succeed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlite_utils import Database

from bot.config import Settings, load_settings
from bot.errors import FileUnavailable
from bot.slack.download import download_file
from bot.slack.file_hosts import FileHostPolicy, is_remote_file
from bot.slack.gateway import translate_file
from bot.types import SlackFile
from handlers.parse import slack_files_for
from storage import open_store
from storage.migrations import migrations
from storage.records import FileRecord
from tests.fakes.foreign_host import ForeignHost
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import Harness, harness

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
REMOTE_EN = "is a link to a file stored outside Slack"
REMOTE_KO = "Slack 밖(예: Google Drive)에 저장된 파일의 링크"
NOT_ON_SLACK = "its link is not on Slack's file servers"


@asynccontextmanager
async def bot_and_foreign_host(tmp_path: Path) -> AsyncIterator[tuple[Harness, ForeignHost]]:
    async with ForeignHost() as foreign, harness(tmp_path) as h:
        yield h, foreign


def bot_text(h: Harness, channel: str, thread_ts: str) -> str:
    return "\n".join(m.text for m in h.slack.thread(channel, thread_ts) if m.bot)


def disguised_remote(h: Harness, foreign: ForeignHost, name: str = "sales.csv") -> dict[str, Any]:
    """An app's remote file that looks like a CSV: only mode/is_external/external_type tell."""
    return h.slack.add_remote_file(
        name=name,
        external_url=foreign.url(f"/collect/{name}"),
        external_type="app",
        mimetype="text/csv",
        filetype="csv",
    )


# ---------------------------------------------------------------- end to end


async def test_a_remote_file_in_a_mention_is_refused_by_name_and_never_fetched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with bot_and_foreign_host(tmp_path) as (h, foreign):
        remote = disguised_remote(h, foreign)
        real = h.slack.add_file(name="costs.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total?", files=[remote, real]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await h.settle()

        text = bot_text(h, "C1", event["ts"])
        assert f"sales.csv {REMOTE_EN}" in text and "upload the file itself" in text
        assert "3 rows, total 600" in text  # the real file is still analysed
        assert foreign.requests == []
        assert h.slack.bot_token not in caplog.text


async def test_a_google_drive_file_with_a_download_link_elsewhere_is_refused(
    tmp_path: Path,
) -> None:
    async with bot_and_foreign_host(tmp_path) as (h, foreign):
        remote = h.slack.add_remote_file(
            name="budget.xlsx", external_url=foreign.url("/d/1/export"), with_download_url=True
        )
        assert remote["url_private_download"].startswith(foreign.base_url)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> 예산 요약해줘", files=[remote]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await h.settle()

        assert f"budget.xlsx 파일은 {REMOTE_KO}" in bot_text(h, "C1", event["ts"])
        assert foreign.requests == []
        assert h.openai.requests_to("POST", "/v1/responses") == []


async def test_a_remote_file_behind_a_slack_connect_stub_stays_refused(tmp_path: Path) -> None:
    async with bot_and_foreign_host(tmp_path) as (h, foreign):
        stub = h.slack.add_remote_file(
            name="q3.csv", external_url=foreign.url("/drive/q3.csv"), connect_stub=True
        )
        assert stub["mode"] == "file_access"  # the event says nothing about being remote
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> q3 total?", files=[stub]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await h.settle()
        assert len(h.slack.calls_to("files.info")) == 1
        again = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> and now?", thread_ts=event["ts"]
        )
        assert await h.send_event(as_app_mention(again)) == 200
        await h.settle()

        text = bot_text(h, "C1", event["ts"])
        assert text.count(f"q3.csv {REMOTE_EN}") == 2
        # Remembered as remote: the second question did not even ask Slack again.
        assert len(h.slack.calls_to("files.info")) == 1
        assert foreign.requests == []


async def test_a_remote_file_found_in_the_thread_history_is_refused(tmp_path: Path) -> None:
    async with bot_and_foreign_host(tmp_path) as (h, foreign):
        root = h.slack.post_user_message(channel="C1", user="U1", text="Q3 numbers")
        # Shared before the bot was mentioned: the bot only learns of them from the history.
        h.slack.post_user_message(
            channel="C1",
            user="U2",
            text="here",
            thread_ts=root["ts"],
            files=[disguised_remote(h, foreign, "매출.csv")],
        )
        h.slack.post_user_message(
            channel="C1",
            user="U2",
            text="and this",
            thread_ts=root["ts"],
            files=[h.slack.add_file(name="costs.csv", content=CSV)],
        )
        ask = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> 합계는?", thread_ts=root["ts"]
        )
        assert await h.send_event(as_app_mention(ask)) == 200
        await h.settle()

        assert h.slack.calls_to("conversations.replies")
        text = bot_text(h, "C1", root["ts"])
        assert f"매출.csv 파일은 {REMOTE_KO}" in text
        assert "3 rows, total 600" in text
        assert foreign.requests == []


async def test_a_slack_file_object_pointing_at_another_host_is_never_contacted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with bot_and_foreign_host(tmp_path) as (h, foreign):
        # Not remote by any sign, but its URLs name another server than Slack's.
        planted = h.slack.add_file(name="sales.csv", content=CSV, url_base=foreign.base_url)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total?", files=[planted]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await h.settle()

        assert f"I did not download sales.csv: {NOT_ON_SLACK}" in bot_text(h, "C1", event["ts"])
        assert foreign.requests == [] and foreign.tokens_seen == []
        foreign_host = foreign.base_url.removeprefix("http://")
        refusals = [r.getMessage() for r in caplog.records if foreign_host in r.getMessage()]
        assert refusals, "the log should name the host that was refused"
        assert h.slack.bot_token not in caplog.text


# ---------------------------------------------------------------- the download itself


@asynccontextmanager
async def watched_session() -> AsyncIterator[tuple[aiohttp.ClientSession, list[str]]]:
    """A session that lists every request it starts: proof that nothing was contacted."""
    started: list[str] = []

    async def on_request_start(
        _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        yield session, started


@pytest.mark.parametrize(
    "url",
    [
        "http://files.slack.com/files-pri/T1-F1/download/sales.csv",
        "https://files.slack.com.evil.example/files-pri/T1-F1/download/sales.csv",
        "https://files.slack.com@evil.example/files-pri/T1-F1/download/sales.csv",
        "https://files.slack.com:8443/files-pri/T1-F1/download/sales.csv",
    ],
    ids=["plain http", "longer host", "userinfo", "other port"],
)
async def test_a_link_off_slacks_file_hosts_is_refused_without_a_request(
    url: str, tmp_path: Path
) -> None:
    file = SlackFile(id="F1", name="sales.csv", url_private_download=url)

    async with watched_session() as (session, started):
        with pytest.raises(FileUnavailable) as caught:
            await download_file(
                session=session,
                file=file,
                token="xoxb-secret",
                dest_dir=tmp_path,
                max_bytes=1 << 20,
                hosts=FileHostPolicy(),
            )

    assert caught.value.user_message.startswith(f"I did not download sales.csv: {NOT_ON_SLACK}")
    assert started == []


async def test_a_remote_file_is_refused_even_with_an_allowed_link(tmp_path: Path) -> None:
    url = "https://files.slack.com/files-pri/T1-F1/download/sales.csv"
    file = SlackFile(id="F1", name="sales.csv", url_private_download=url, is_remote=True)

    async with watched_session() as (session, started):
        with pytest.raises(FileUnavailable) as caught:
            await download_file(
                session=session,
                file=file,
                token="xoxb-secret",
                dest_dir=tmp_path,
                max_bytes=1 << 20,
                hosts=FileHostPolicy(),
            )

    assert caught.value.text_for("ko").startswith(f"sales.csv 파일은 {REMOTE_KO}")
    assert started == []


# ---------------------------------------------------------------- the rule (pure)

FAKE_API = "http://127.0.0.1:8123/api/"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/a.csv", True),
        ("https://FILES.SLACK.COM/files-pri/T1-F1/a.csv", True),
        ("https://files.slack.com:443/files-pri/T1-F1/a.csv", True),
        ("http://files.slack.com/files-pri/T1-F1/a.csv", False),
        ("https://files.slack.com:8443/files-pri/T1-F1/a.csv", False),
        ("https://files.slack.com./files-pri/T1-F1/a.csv", False),
        ("https://files.slack.com.evil.com/files-pri/T1-F1/a.csv", False),
        ("https://evil.com/files.slack.com/a.csv", False),
        ("https://files.slack.com@evil.com/a.csv", False),
        ("https://user:pw@files.slack.com/a.csv", False),
        ("https://evil.com\\@files.slack.com/a.csv", False),
        ("https://evil.com\\.files.slack.com/a.csv", False),
        ("https://files%2eslack%2ecom/a.csv", False),
        ("https://files。slack.com/a.csv", False),
        ("https://xn--files-slack-com/a.csv", False),
        ("https://files.slack.com\t/a.csv", False),
        ("//files.slack.com/a.csv", False),
        ("ftp://files.slack.com/a.csv", False),
        ("https://[::1]/a.csv", False),
        ("https://files.slack.com:99999/a.csv", False),
        ("not a url", False),
        ("", False),
        # The fake (or a proxy) behind a non-default SLACK_API_URL: that origin only.
        ("http://127.0.0.1:8123/files-pri/T1-F1/a.csv", True),
        ("http://127.0.0.1:8124/files-pri/T1-F1/a.csv", False),
        ("https://127.0.0.1:8123/files-pri/T1-F1/a.csv", False),
        ("http://localhost:8123/files-pri/T1-F1/a.csv", False),
    ],
)
def test_which_urls_the_token_may_go_to(url: str, allowed: bool) -> None:
    policy = FileHostPolicy.from_settings(Settings(slack_api_url=FAKE_API))

    assert policy.allows(url) is allowed


def test_slacks_own_api_url_adds_no_origin() -> None:
    policy = FileHostPolicy.from_settings(load_settings({}, dotenv_path=None))

    assert policy.allows("https://files.slack.com/files-pri/T1-F1/a.csv")
    assert not policy.allows("https://slack.com/files-pri/T1-F1/a.csv")
    assert not policy.allows(FAKE_API)


def test_insightbot_slack_file_hosts_adds_a_host() -> None:
    gov = "https://files.slack-gov.com/files-pri/T1-F1/download/a.csv"
    default = FileHostPolicy.from_settings(load_settings({}, dotenv_path=None))
    env = {"INSIGHTBOT_SLACK_FILE_HOSTS": "files.slack-gov.com"}
    added = FileHostPolicy.from_settings(load_settings(env, dotenv_path=None))

    assert not default.allows(gov)
    assert added.allows(gov)
    assert added.allows("https://files.slack.com/files-pri/T1-F1/download/a.csv")
    assert not added.allows(gov.replace("https://", "http://"))


REMOTE_SIGNS = [
    {"mode": "external"},
    {"is_external": True},
    {"filetype": "remote"},
    {"external_type": "gdrive"},
]


@pytest.mark.parametrize("sign", REMOTE_SIGNS, ids=lambda s: next(iter(s)))
def test_any_one_sign_makes_a_file_remote_on_every_path(sign: dict[str, Any]) -> None:
    raw = {
        "id": "F1",
        "name": "sales.csv",
        "filetype": "csv",
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "url_private": "https://collector.example/sales.csv",
        "url_private_download": "https://collector.example/sales.csv?dl=1",
        **sign,
    }

    assert is_remote_file(raw)
    from_event = slack_files_for([raw])[0]
    from_api = translate_file(raw)  # files.info and conversations.replies
    for file in (from_event, from_api):
        assert file.is_remote and file.url_private_download is None and not file.needs_info


def test_a_hosted_file_is_not_remote() -> None:
    raw = {"id": "F1", "name": "a.csv", "mode": "hosted", "is_external": False}

    assert not is_remote_file({**raw, "external_type": ""})
    assert not translate_file(raw).is_remote


async def test_a_file_once_seen_as_remote_stays_remote_in_storage(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        remote = FileRecord(thread_key="T:C:1", slack_file_id="F1", name="a.csv", is_remote=True)
        await store.save_file(remote)
        # A later Slack Connect stub of the same file does not say it is remote.
        await store.save_file(FileRecord(thread_key="T:C:1", slack_file_id="F1", name="a.csv"))

        [stored] = await store.thread_files("T:C:1")
    finally:
        await store.close()

    assert stored.is_remote


async def test_a_database_from_before_remote_files_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Database(path)
    migrations.apply(old, stop_before="m002_code_posted_ts")
    row = {"thread_key": "T:C:1", "slack_file_id": "F1", "name": "a.csv"}
    old["files"].insert({**row, "mimetype": "text/csv", "filetype": "csv"})
    old.close()

    store = await open_store(path)
    try:
        [before] = await store.thread_files("T:C:1")
        await store.save_file(replace(before, is_remote=True))
        [after] = await store.thread_files("T:C:1")
    finally:
        await store.close()

    assert (before.name, before.is_remote) == ("a.csv", False)
    assert after.is_remote
