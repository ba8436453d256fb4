"""The data lifecycle end to end, through the fake Slack and the fake OpenAI: "forget this
thread" by each phrasing and by the shortcut, refused forgets, the retention sweep on a clock
the test moves, a purge racing a new question, deletions answered 404 and 5xx, other apps'
objects in the same project, and a follow-up after a purge."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai
import pytest

from bot.lifecycle import SystemClock
from bot.slack.blocks import SHOW_CODE_ACTION
from storage.records import CANCELLED, DONE, RECEIVED
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention, message_action
from tests.fakes.slack_server import FakeSlack
from tests.harness import Harness, bot_over, harness
from tests.reliability_harness import click, wait_until, with_button

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
DAY = 24 * 3600.0


class FakeClock(SystemClock):
    """The system's time plus whatever the test added; ``sleep`` ends only when the test
    moves the clock past it."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._moved = asyncio.Event()

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        until = self.now() + seconds
        while self.now() < until:
            self._moved.clear()
            await self._moved.wait()

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self._moved.set()


def at_openai(fake: FakeOpenAI) -> dict[str, set[str]]:
    """Every object the fake project still holds, per kind."""
    return {
        "file": set(fake.files),
        "container": {c.id for c in fake.containers.values() if not c.deleted},
        "conversation": set(fake.conversations),
        "response": set(fake.responses),
    }


def bot_texts(h: Harness, channel: str, thread_ts: str) -> list[str]:
    return [m.text for m in h.slack.thread(channel, thread_ts) if m.bot]


async def answered_question(
    h: Harness, *, user: str = "U1", text: str = "<@UBOT> total amount"
) -> dict[str, Any]:
    """A question with a file in a new thread of C1, answered."""
    file = h.slack.add_file(name="payroll.csv", content=CSV)
    event = h.slack.post_user_message(channel="C1", user=user, text=text, files=[file])
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle()
    assert any("total 600" in t for t in bot_texts(h, "C1", event["ts"]))
    return event


async def say_in_thread(h: Harness, thread_ts: str, text: str, *, user: str = "U1") -> None:
    """A reply mentioning the bot, delivered as both events Slack sends for it."""
    reply = h.slack.post_user_message(channel="C1", user=user, text=text, thread_ts=thread_ts)
    assert await h.send_event(as_app_mention(reply)) == 200
    assert await h.send_event(reply) == 200


def ours(before: dict[str, set[str]]) -> int:
    return sum(len(ids) for ids in before.values())


@pytest.mark.parametrize(
    ("phrase", "confirmation"),
    [
        ("forget", "I forgot this thread."),
        ("Forget this thread", "I forgot this thread."),
        ("잊어줘", "이 스레드의 데이터를 지웠어요."),
        ("이 스레드 잊어줘", "이 스레드의 데이터를 지웠어요."),
    ],
)
async def test_forget_by_each_phrasing_deletes_the_threads_objects_and_content(
    tmp_path: Path, phrase: str, confirmation: str
) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        created = at_openai(h.openai)
        assert all(created.values()), created  # a file, a sandbox, a conversation, a response
        creates = len(h.openai.requests_to("POST", "/v1/responses"))

        await say_in_thread(h, first["ts"], f"<@UBOT> {phrase}")
        await h.settle()

        left = at_openai(h.openai)
        assert all(not (left[kind] & created[kind]) for kind in created), left
        said = [t for t in bot_texts(h, "C1", first["ts"]) if t.startswith(confirmation)]
        assert len(said) == 1, bot_texts(h, "C1", first["ts"])  # once, for two deliveries
        assert len(h.openai.requests_to("POST", "/v1/responses")) == creates  # not a question
        key = f"T0FAKE:C1:{first['ts']}"
        turns = await h.bot.services.store.thread_turns(key)
        assert [(t.question, t.answer_text, t.status) for t in turns] == [("", "", DONE)]
        assert turns[0].input_tokens > 0  # usage numbers stay
        assert await h.bot.services.store.thread_files(key) == []


async def test_only_an_asker_or_an_admin_can_make_the_bot_forget(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS="U9") as h:
        first = await answered_question(h)
        created = at_openai(h.openai)

        await say_in_thread(h, first["ts"], "<@UBOT> forget", user="U2")
        await h.settle()
        assert at_openai(h.openai) == created
        notes = [m for m in h.slack.ephemeral_messages if m.get("user") == "U2"]
        assert notes and "Only someone who asked" in str(notes[-1])
        assert not any("forgot" in t for t in bot_texts(h, "C1", first["ts"]))

        await say_in_thread(h, first["ts"], "<@UBOT> forget", user="U9")
        await h.settle()
        assert not (at_openai(h.openai)["conversation"] & created["conversation"])


async def test_the_shortcut_stops_a_running_analysis_then_forgets(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.openai.run_delay_s = 30.0  # the analysis would take long
        file = h.slack.add_file(name="payroll.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total", files=[file]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await wait_until(lambda: bool(h.openai.responses))
        shortcut = message_action(
            callback_id="forget_thread",
            user="U1",
            channel="C1",
            message_ts=event["ts"],
            text="total",
        )
        assert await h.click(shortcut) == 200
        await h.settle(40)

        key = f"T0FAKE:C1:{event['ts']}"
        turns = await h.bot.services.store.thread_turns(key)
        assert [t.status for t in turns] == [CANCELLED]
        assert not any(at_openai(h.openai).values()), at_openai(h.openai)
        texts = bot_texts(h, "C1", event["ts"])
        assert any(t.startswith("I forgot this thread.") for t in texts), texts


async def test_retention_sweep_purges_idle_threads_and_a_follow_up_starts_fresh(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with harness(tmp_path, clock=clock) as h:
        sweeper = h.bot.sweeper
        first = await answered_question(h)
        quiet = await answered_question(h)  # another thread, purged as well
        created = at_openai(h.openai)
        await wait_until(lambda: sweeper.sweeps >= 1)
        assert at_openai(h.openai) == created  # 30 days have not passed

        clock.advance(29 * DAY)
        await wait_until(lambda: sweeper.sweeps >= 2)
        assert at_openai(h.openai) == created
        clock.advance(2 * DAY)
        await wait_until(lambda: sweeper.sweeps >= 3)
        assert not any(at_openai(h.openai).values()), at_openai(h.openai)
        for event in (first, quiet):
            turns = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{event['ts']}")
            assert [t.question for t in turns] == [""]

        # The thread still works: a fresh conversation, the files fetched from Slack again.
        downloads = len(h.openai.requests_to("POST", "/v1/files"))
        conversations = len(h.openai.requests_to("POST", "/v1/conversations"))
        await say_in_thread(h, first["ts"], "<@UBOT> and the average?")
        await h.settle()
        texts = bot_texts(h, "C1", first["ts"])
        cleared = [t for t in texts if "cleared after 30 days" in t]
        assert len(cleared) == 1, texts
        assert "total 600" in texts[-1] or any("total 600" in t for t in texts[-2:])
        assert len(h.openai.requests_to("POST", "/v1/files")) == downloads + 1
        assert len(h.openai.requests_to("POST", "/v1/conversations")) == conversations + 1
        assert h.slack.calls_to("conversations.replies")


async def test_a_question_arriving_during_a_purge_waits_for_it_then_starts_fresh(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        old_conversations = set(h.openai.conversations)
        held = asyncio.Event()
        h.openai.deletes_held = held
        h.openai.deletes_seen.clear()
        await say_in_thread(h, first["ts"], "<@UBOT> forget")
        await asyncio.wait_for(h.openai.deletes_seen.wait(), 10)

        creates = len(h.openai.requests_to("POST", "/v1/responses"))
        await say_in_thread(h, first["ts"], "<@UBOT> what is the largest region?")
        await asyncio.sleep(1.0)
        key = f"T0FAKE:C1:{first['ts']}"
        waiting = [t for t in await h.bot.services.store.thread_turns(key) if t.status == RECEIVED]
        assert len(waiting) == 1  # stored (acknowledged), not started
        assert waiting[0].question == "what is the largest region?"
        assert len(h.openai.requests_to("POST", "/v1/responses")) == creates

        held.set()
        await h.settle()
        turns = await h.bot.services.store.thread_turns(key)
        assert [t.status for t in turns] == [DONE, DONE]
        assert turns[0].question == "" and turns[1].question == "what is the largest region?"
        last_create = h.openai.requests_to("POST", "/v1/responses")[-1].json or {}
        assert last_create["conversation"] not in old_conversations
        texts = bot_texts(h, "C1", first["ts"])
        assert sum("cleared on request" in t for t in texts) == 1, texts


async def test_deletes_answered_404_count_as_done_and_5xx_stay_pending_until_retried(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with harness(tmp_path, clock=clock) as h:
        first = await answered_question(h)
        [container] = [c for c in h.openai.containers.values() if not c.deleted]
        container.deleted = True  # gone already (expired and cleaned up at OpenAI)
        [conversation] = list(h.openai.conversations)
        h.openai.fail_next("DELETE", "/v1/conversations/", status=500, times=1)
        h.openai.fail_next("DELETE", "/v1/responses/", status=429, times=1)

        await say_in_thread(h, first["ts"], "<@UBOT> forget")
        await h.settle()
        [said] = [t for t in bot_texts(h, "C1", first["ts"]) if "forgot" in t]
        assert "1 sandbox" in said  # the 404 is done
        assert "Not deleted yet: 1 conversation, 1 response" in said
        gone_line = said.splitlines()[1]
        assert "conversation" not in gone_line and "response" not in gone_line
        assert conversation in h.openai.conversations and h.openai.responses
        pending = await h.bot.services.store.pending_deletions()
        assert pending["conversation"] == 1 and pending["response"] == 1

        # Retried with back-off: not before it is due, and then done.
        clock.advance(60)
        await asyncio.sleep(0.3)
        assert conversation in h.openai.conversations
        clock.advance(10 * 60)
        await wait_until(lambda: conversation not in h.openai.conversations)
        assert not h.openai.responses
        assert sum((await h.bot.services.store.pending_deletions()).values()) == 0


async def test_objects_of_other_apps_in_the_same_project_are_never_touched(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with harness(tmp_path, clock=clock) as h:
        client = openai.AsyncOpenAI(base_url=h.openai.base_url, api_key=h.openai.api_key)
        try:
            theirs = await client.files.create(
                file=("their.csv", b"a,b\n1,2\n", "text/csv"), purpose="user_data"
            )
            their_box = await client.containers.create(name="reporting app")
            their_chat = await client.conversations.create()
            # A container named as ours that never reached the inventory (a crash).
            stray = await client.containers.create(name="insightbot T0FAKE:C1:1.1")
        finally:
            await client.close()
        h.openai.containers[stray.id].created_at -= 2 * 3600

        first = await answered_question(h)
        await say_in_thread(h, first["ts"], "<@UBOT> forget")
        await h.settle()
        clock.advance(3600)  # the hourly sweep, which also looks for stray containers
        await wait_until(lambda: h.bot.sweeper.sweeps >= 2)

        left = at_openai(h.openai)
        assert left["file"] == {theirs.id}
        assert left["container"] == {their_box.id}
        assert left["conversation"] == {their_chat.id}
        assert not left["response"]


async def test_the_first_sweep_after_the_upgrade_says_what_it_is_about_to_delete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as fake:
        # Before the upgrade there was no retention: nothing was ever swept.
        async with bot_over(slack, fake, db, INSIGHTBOT_RETENTION_DAYS="0") as h:
            await answered_question(h)
        clock = FakeClock()
        clock.advance(45 * DAY)
        with caplog.at_level(logging.INFO, logger="bot.lifecycle"):
            async with bot_over(slack, fake, db, clock=clock) as h:
                await wait_until(lambda: h.bot.sweeper.sweeps >= 1)
        first = [
            r.getMessage() for r in caplog.records if "first retention sweep" in r.getMessage()
        ]
        assert first == [
            "first retention sweep (INSIGHTBOT_RETENTION_DAYS=30): about to delete the data of "
            "1 threads idle for longer than that (1 files, 1 containers, 1 conversations, "
            "1 responses at the engine; their questions, answers, code and file names here)"
        ]
        assert not any(at_openai(fake).values())
        # Logs carry no file contents and no question text.
        logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
        assert "payroll.csv" not in logged and "total amount" not in logged


async def test_logs_carry_no_question_text_or_file_contents_and_file_names_only_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_question = "<@UBOT> what did 김민수 earn in 2024"
    with caplog.at_level(logging.DEBUG):
        async with harness(tmp_path) as h:
            file = h.slack.add_file(name="급여_명세서.csv", content=b"name,pay\nkim_minsu,987654\n")
            event = h.slack.post_user_message(
                channel="C1", user="U1", text=secret_question, files=[file]
            )
            assert await h.send_event(as_app_mention(event)) == 200
            await h.settle()
            await say_in_thread(h, event["ts"], "<@UBOT> forget")
            await h.settle()
    info = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    debug = "\n".join(r.getMessage() for r in caplog.records if r.levelno < logging.INFO)
    for secret in ("김민수", "kim_minsu", "987654", "급여_명세서"):
        assert secret not in info, secret
    assert "급여_명세서" in debug  # file names are there for whoever turns DEBUG on


async def test_buttons_on_an_erased_answer_say_it_was_cleared(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        [answer] = with_button(h.slack, "C1", first["ts"], SHOW_CODE_ACTION)
        await say_in_thread(h, first["ts"], "<@UBOT> forget")
        await h.settle()
        posted = len(h.slack.thread("C1", first["ts"]))

        await click(h, answer, action_id=SHOW_CODE_ACTION, user="U1")
        await h.settle()
        assert len(h.slack.thread("C1", first["ts"])) == posted  # no code is posted
        notes = [m for m in h.slack.ephemeral_messages if m.get("user") == "U1"]
        assert notes and "cleared from my memory" in str(notes[-1])


async def test_a_purge_interrupted_by_a_restart_finishes_on_the_next_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as fake:
        async with bot_over(slack, fake, db) as h:
            first = await answered_question(h)
            key = f"T0FAKE:C1:{first['ts']}"
            store = h.bot.services.store
            # A purge got as far as claiming the thread and marking its objects; then the
            # process died (nothing deleted, nothing erased).
            assert await store.claim_purge(
                key, reason="request", holder="dead", lease_s=60, now=time.time()
            )
            assert await store.doom_thread_objects(key, now=time.time())
        created = at_openai(fake)
        assert all(created.values())

        clock = FakeClock()
        clock.advance(120)  # the dead process's lease has run out
        async with bot_over(slack, fake, db, clock=clock) as h:
            await wait_until(lambda: h.bot.sweeper.sweeps >= 1)
            turns = await h.bot.services.store.thread_turns(key)
        assert not any(at_openai(fake).values()), at_openai(fake)
        assert [t.question for t in turns] == [""]


async def test_an_upload_about_to_expire_at_the_engine_is_uploaded_again(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        key = f"T0FAKE:C1:{first['ts']}"
        store = h.bot.services.store
        [record] = await store.thread_files(key)
        assert record.uploaded_at is not None
        await store.save_file(replace(record, uploaded_at=record.uploaded_at - 29.5 * DAY))
        uploads = len(h.openai.requests_to("POST", "/v1/files"))

        await say_in_thread(h, first["ts"], "<@UBOT> again please")
        await h.settle()
        assert len(h.openai.requests_to("POST", "/v1/files")) == uploads + 1
        assert sum("total 600" in t for t in bot_texts(h, "C1", first["ts"])) == 2
