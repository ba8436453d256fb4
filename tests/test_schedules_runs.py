"""What each scheduled run does in the remaining cases, end to end through the fakes with a
clock the test moves: a skipped run's line, "the same files", runs a restart interrupted,
"forget" and retention next to a schedule, budgets, the owner's running limit, a failed run."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from storage.records import CLAIMED, INTERRUPTED, POSTED, REFUSED, RUN_ANSWERED, RUN_FAILED, SKIPPED
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention
from tests.fakes.slack_server import FakeSlack
from tests.harness import Harness, bot_over, harness
from tests.test_schedules_e2e import (
    MovableClock,
    answers,
    at,
    daily,
    occurrences,
    scheduled_messages,
    share,
    until,
)

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
OWNER = "U0ANNA"
CRASH = {"INSIGHTBOT_DRAIN_S": "0.05"}


def _sql(db: Path, statement: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(statement)


def thread_texts(slack: FakeSlack, channel: str, ts: str) -> list[str]:
    return [m.text for m in slack.thread(channel, ts)[1:] if m.bot]


def responses_created(openai: FakeOpenAI) -> int:
    return len(openai.requests_to("POST", "/v1/responses"))


async def ask_with_file(h: Harness, *, user: str = OWNER, name: str = "sales.csv") -> str:
    """The owner asks with a file in a new thread of C1 (answered); returns the thread's ts
    and the file's id."""
    file = h.slack.add_file(name=name, content=CSV, user=user)
    event = h.slack.post_user_message(channel="C1", user=user, text="<@UBOT> total?", files=[file])
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle()
    assert any("total 600" in t for t in thread_texts(h.slack, "C1", event["ts"]))
    return str(event["ts"])


def run_threads(slack: FakeSlack) -> list[str]:
    """The ts of each scheduled run's message in C1 ("Scheduled by ..."), oldest first."""
    return [
        m.ts for m in slack.channel_messages("C1") if m.bot and m.text.startswith("Scheduled by")
    ]


# ---------------------------------------------------------------- a skipped run


@pytest.mark.parametrize(
    ("post_skipped", "question", "with_file", "line"),
    [
        (False, "Total amount?", True, None),
        (
            True,
            "Total amount?",
            True,
            "Scheduled analysis skipped: no new file named like sales_*.csv since sales_1101.csv.",
        ),
        (True, "매출 합계는?", False, "예약 분석을 건너뛰었어요: 이 채널에 sales_*.csv 형식의 파일이 없어요."),
    ],
)  # fmt: skip
async def test_a_skipped_run_posts_one_line_only_when_the_schedule_says_so(
    tmp_path: Path, post_skipped: bool, question: str, with_file: bool, line: str | None
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        now = clock.now()
        if with_file:
            share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await h.bot.services.store.add_schedule(
            dataclasses.replace(daily(now), question=question, post_skipped=post_skipped)
        )
        first, second = occurrences(schedule, after=now, count=2)
        await at(h, clock, first + 5)
        await at(h, clock, second + 5)
        outcomes = [o for _, o in await h.bot.services.store.occurrence_outcomes(schedule.id)]
        texts = scheduled_messages(h.slack, "C1")
        if with_file:
            assert outcomes == [RUN_ANSWERED, SKIPPED] and texts[0].startswith("Scheduled by anna")
            texts = texts[1:]
        else:
            assert outcomes == [SKIPPED, SKIPPED]
        if line is None:
            assert texts == []  # today's behaviour: a skipped run says nothing
        else:
            assert texts == [line] * (1 if with_file else 2)
            assert all("<@" not in t and "<!" not in t for t in texts)
        assert len(answers(h.slack, "C1")) == (1 if with_file else 0) + len(texts)


def test_the_cli_adds_a_schedule_whose_skipped_runs_post_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSIGHTBOT_DB", str(tmp_path / "insightbot.db"))
    monkeypatch.chdir(tmp_path)
    add = ["schedules", "add", "--channel", "C0SALES", "--user", OWNER, "--question", "Sum?"]
    when = ["--every", "daily", "--at", "09:00", "--files", "newest:sales_*.csv"]
    assert main([*add, *when, "--skip-unchanged", "--post-skipped"]) == 0
    assert main([*add, *when]) == 0
    capsys.readouterr()
    assert main(["schedules", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["post_skipped"] for s in listed] == [True, False]


# ---------------------------------------------------------------- the same files


async def test_a_same_files_schedule_uses_its_files_at_each_run_and_says_when_one_is_gone(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        source = await ask_with_file(h, name="q3_sales.csv")
        [file_id] = [f.slack_file_id for f in await h.bot.services.store.thread_files(
            f"T0FAKE:C1:{source}")]  # fmt: skip
        now = clock.now()
        # A newer file in the channel is not what a "same files" schedule uses.
        share(h.slack, channel="C1", name="q4_sales.csv", content=b"a,b\nx,7\n", created=now - 60)
        schedule = await h.bot.services.store.add_schedule(
            dataclasses.replace(
                daily(now), files="same", file_ids=(file_id,), source_thread_ts=source
            )
        )
        first, second, third = occurrences(schedule, after=now, count=3)
        for when in (first, second):
            await at(h, clock, when + 5)
            assert "q3_sales.csv: 3 rows, total 600" in answers(h.slack, "C1")[-1]
        assert len(run_threads(h.slack)) == 2
        assert [c.args.get("file") for c in h.slack.calls_to("files.info")][-2:] == [file_id] * 2

        h.slack.delete_file(file_id)
        created = responses_created(h.openai)
        await at(h, clock, third + 5)
        [*_, gone] = run_threads(h.slack)
        [said] = thread_texts(h.slack, "C1", gone)
        assert "q3_sales.csv was deleted in Slack" in said and "the newest file" in said
        assert responses_created(h.openai) == created  # nothing ran on other data


async def test_a_same_files_schedule_refuses_a_remote_file_like_any_question(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        remote = h.slack.add_remote_file(name="budget.csv", external_url="https://drive.example/x")
        now = clock.now()
        schedule = await h.bot.services.store.add_schedule(
            dataclasses.replace(daily(now), files="same", file_ids=(str(remote["id"]),))
        )
        [first] = occurrences(schedule, after=now, count=1)
        await at(h, clock, first + 5)
        [thread] = run_threads(h.slack)
        said = " ".join(thread_texts(h.slack, "C1", thread))
        assert "budget.csv" in said and "outside Slack" in said, said
        assert h.slack.downloads == []


# ---------------------------------------------------------------- interrupted runs


async def test_a_run_interrupted_after_its_message_is_reported_once_in_its_thread(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        async with bot_over(slack, openai, db, clock=clock) as h:
            schedule = await h.bot.services.store.add_schedule(daily(now, skip=False))
            first, second = occurrences(schedule, after=now, count=2)
            # The message is posted, then the turn cannot be stored (the process is as good
            # as dead for this run: nothing more happens until a restart).
            _sql(db, "CREATE TRIGGER refuse BEFORE INSERT ON turns "
                     "BEGIN SELECT RAISE(ABORT, 'disk full'); END")  # fmt: skip
            await at(h, clock, first + 5)
            [occurrence] = await h.bot.services.store.occurrences(schedule.id)
            assert occurrence.outcome == CLAIMED and occurrence.message_ts
            assert thread_texts(slack, "C1", occurrence.message_ts) == []  # not yet reported
            _sql(db, "DROP TRIGGER refuse")
        for _ in range(2):  # reported at the first restart only
            async with bot_over(slack, openai, db, clock=clock) as h:
                await until(lambda: h.bot.scheduler.ticks > 0)
                await h.settle()
        [said] = thread_texts(slack, "C1", occurrence.message_ts)
        assert "interrupted by a restart" in said and "next scheduled time" in said
        async with bot_over(slack, openai, db, clock=clock) as h:
            await at(h, clock, second + 5)  # the next occurrence runs normally
            outcomes = [o.outcome for o in await h.bot.services.store.occurrences(schedule.id)]
        assert outcomes in ([POSTED, INTERRUPTED], [RUN_ANSWERED, INTERRUPTED])
        assert len(run_threads(slack)) == 2
        assert "total 600" in answers(slack, "C1")[-1]


async def test_a_run_interrupted_before_its_message_is_reported_once_at_the_top_level(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        async with bot_over(slack, openai, db, clock=clock, **CRASH) as h:
            store = h.bot.services.store
            schedule = await store.add_schedule(daily(now, skip=False))
            first, second = occurrences(schedule, after=now, count=2)
            # Slack is slow to say the owner's name: the process stops while the run waits
            # for it, after the claim and before anything is posted.
            slack.slow_next("users.info", seconds=3)
            await until(lambda: h.bot.scheduler.ticks > 0)
            clock.move_to(first + 5)
            await until(lambda: bool(slack.calls_to("users.info")))
        assert scheduled_messages(slack, "C1") == []
        for _ in range(2):
            async with bot_over(slack, openai, db, clock=clock) as h:
                await until(lambda: h.bot.scheduler.ticks > 0)
                await h.settle()
        [said] = scheduled_messages(slack, "C1")
        assert said.startswith("Scheduled by anna: Total amount?")
        assert "interrupted by a restart before it started" in said
        assert responses_created(openai) == 0
        async with bot_over(slack, openai, db, clock=clock) as h:
            await at(h, clock, second + 5)
            outcomes = [o.outcome for o in await h.bot.services.store.occurrences(schedule.id)]
        assert outcomes in ([POSTED, INTERRUPTED], [RUN_ANSWERED, INTERRUPTED])
        assert "total 600" in answers(slack, "C1")[-1]


async def test_a_crash_after_the_turn_was_stored_gives_exactly_one_answer(tmp_path: Path) -> None:
    clock = MovableClock()
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        openai.run_delay_s = 0.6
        async with bot_over(slack, openai, db, clock=clock, **CRASH) as h:
            schedule = await h.bot.services.store.add_schedule(daily(now, skip=False))
            [first] = occurrences(schedule, after=now, count=1)
            # The turn is stored and runs, but the run is never settled as posted; then the
            # process stops while the engine still works on the answer.
            _sql(db, "CREATE TRIGGER refuse BEFORE UPDATE OF outcome ON occurrences "
                     "WHEN NEW.outcome = 'posted' BEGIN SELECT RAISE(ABORT, 'disk full'); END")  # fmt: skip
            await until(lambda: h.bot.scheduler.ticks > 0)
            clock.move_to(first + 5)
            await until(lambda: responses_created(openai) > 0)
        _sql(db, "DROP TRIGGER refuse")
        async with bot_over(slack, openai, db, clock=clock) as h:
            await until(lambda: h.bot.scheduler.ticks > 0)
            await h.settle()
            [occurrence] = await h.bot.services.store.occurrences(schedule.id)
        [thread] = run_threads(slack)
        texts = thread_texts(slack, "C1", thread)
        assert len([t for t in texts if "total 600" in t]) == 1, texts
        assert not any("interrupted" in t for t in texts)
        assert occurrence.outcome in (POSTED, RUN_ANSWERED) and occurrence.turn_id


# ---------------------------------------------------------------- forget and retention


async def test_forgetting_the_thread_a_schedule_came_from_says_it_remains_and_it_runs_on(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        source = await ask_with_file(h)
        now = clock.now()
        share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await h.bot.services.store.add_schedule(
            dataclasses.replace(daily(now, skip=False), source_thread_ts=source)
        )
        reply = h.slack.post_user_message(
            channel="C1", user=OWNER, text="<@UBOT> forget", thread_ts=source
        )
        assert await h.send_event(as_app_mention(reply)) == 200
        await h.settle()
        await until(lambda: any("forgot" in t for t in thread_texts(h.slack, "C1", source)))
        [confirmation] = [t for t in thread_texts(h.slack, "C1", source) if "forgot" in t]
        assert (
            f"1 recurring analysis made from this thread still exists and keeps running (ID {schedule.id})"
            in (confirmation)
        )
        assert "App Home" in confirmation and "insightbot schedules delete ID" in confirmation
        [first] = occurrences(schedule, after=now, count=1)
        await at(h, clock, first + 5)
        assert "total 600" in answers(h.slack, "C1")[-1]


async def test_retention_purges_the_threads_but_keeps_the_schedule(tmp_path: Path) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        store = h.bot.services.store
        source = await ask_with_file(h)
        now = clock.now()
        share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await store.add_schedule(
            dataclasses.replace(daily(now, skip=False), source_thread_ts=source)
        )
        first, *_, later = occurrences(schedule, after=now, count=33)
        await at(h, clock, first + 5)
        [run] = run_threads(h.slack)
        kept = await store.get_schedule(schedule.id)
        assert kept is not None and kept.last_file_id

        sweeps = h.bot.sweeper.sweeps
        await at(h, clock, later + 5)  # 32 days on: the sweep runs, and so does the schedule
        await until(lambda: h.bot.sweeper.sweeps > sweeps)
        await h.settle()
        for ts in (source, run):  # both threads were purged ...
            turns = await store.thread_turns(f"T0FAKE:C1:{ts}")
            assert [t.question for t in turns] == [""], turns
        after = await store.get_schedule(schedule.id)  # ... the schedule was not
        assert after is not None
        assert (after.question, after.files, after.last_file_id) == (
            "Total amount?", "newest:sales_*.csv", kept.last_file_id
        )  # fmt: skip
        assert [o.outcome for o in await store.occurrences(schedule.id)][-1] in (
            POSTED,
            RUN_ANSWERED,
        )
        assert len(run_threads(h.slack)) == 2 and "total 600" in answers(h.slack, "C1")[-1]


# ---------------------------------------------------------------- budgets, limits, failures


async def test_a_used_up_budget_stops_a_scheduled_run_before_the_engine(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-5.5": {"input": 10_000.0, "output": 10_000.0}}))
    clock = MovableClock()
    async with harness(
        tmp_path, clock=clock, INSIGHTBOT_PRICES=str(prices), INSIGHTBOT_USER_DAILY_USD="1"
    ) as h:
        h.slack.add_user(OWNER, name="anna")
        await ask_with_file(h)  # the owner's own question uses the day's budget up
        # A second question is refused with a private note: the run a moment later still
        # says why in its own thread (private notes are rate-limited, thread lines are not).
        again = h.slack.post_user_message(channel="C1", user=OWNER, text="<@UBOT> and now?")
        assert await h.send_event(as_app_mention(again)) == 200
        await h.settle()
        assert len(h.slack.ephemeral_messages) == 1
        now = clock.now()
        share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await h.bot.services.store.add_schedule(daily(now))
        created = responses_created(h.openai)
        [first] = occurrences(schedule, after=now, count=1)
        await at(h, clock, first + 5)
        [thread] = run_threads(h.slack)
        [said] = thread_texts(h.slack, "C1", thread)
        assert "budget is used up" in said and "$" not in said
        assert responses_created(h.openai) == created
        [turn] = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{thread}")
        assert turn.status == REFUSED and turn.user == OWNER


async def test_a_scheduled_run_waits_for_the_owners_running_question_then_answers(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_USER_MAX_RUNNING="1") as h:
        h.slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await h.bot.services.store.add_schedule(daily(now))
        [first] = occurrences(schedule, after=now, count=1)
        h.openai.run_delay_s = 1.0
        file = h.slack.add_file(name="mine.csv", content=CSV, user=OWNER)
        own = h.slack.post_user_message(
            channel="C1", user=OWNER, text="<@UBOT> total?", files=[file]
        )
        assert await h.send_event(as_app_mention(own)) == 200
        await until(lambda: responses_created(h.openai) == 1)  # the owner's question runs

        await at(h, clock, first + 5)
        [thread] = run_threads(h.slack)
        [turn] = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{thread}")
        assert turn.status != REFUSED
        assert any(
            "mine.csv: 3 rows, total 600" in t for t in thread_texts(h.slack, "C1", own["ts"])
        )
        assert any("total 600" in t for t in thread_texts(h.slack, "C1", thread))
        notes = [m["text"] for m in h.slack.ephemeral_messages if m["user"] == OWNER]
        assert len(notes) == 1 and "1" in notes[0]  # told privately that it waited


async def test_a_failing_scheduled_run_says_why_in_its_thread(tmp_path: Path) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(h.slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        schedule = await h.bot.services.store.add_schedule(daily(now))
        [first] = occurrences(schedule, after=now, count=1)
        h.openai.fail_next_response()
        await at(h, clock, first + 5)
        [thread] = run_threads(h.slack)
        said = " ".join(thread_texts(h.slack, "C1", thread))
        assert "The analysis engine had an internal error" in said, said
        assert "total 600" not in said


async def test_a_run_slack_refuses_to_post_counts_as_failed_and_the_next_one_runs(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        slack.add_user(OWNER, name="anna")
        now = clock.now()
        share(slack, channel="C1", name="sales_1101.csv", content=CSV, created=now - 900)
        async with bot_over(slack, openai, db, clock=clock) as h:
            schedule = await h.bot.services.store.add_schedule(daily(now, skip=False))
            first, second = occurrences(schedule, after=now, count=2)
            slack.fail_next("chat.postMessage", error="fatal_error", status=200)
            await at(h, clock, first + 5)
            assert run_threads(slack) == []
            stored = await h.bot.services.store.get_schedule(schedule.id)
            assert stored is not None and stored.failures == 1
        # A restart does not report it as interrupted: it already counted as failed.
        async with bot_over(slack, openai, db, clock=clock) as h:
            await at(h, clock, second + 5)
            outcomes = [o for _, o in await h.bot.services.store.occurrence_outcomes(schedule.id)]
        assert outcomes[0] == RUN_FAILED and outcomes[1] in (POSTED, RUN_ANSWERED)
        assert [
            m.text for m in slack.channel_messages("C1") if m.bot and "interrupt" in m.text
        ] == []
        assert len(run_threads(slack)) == 1 and "total 600" in answers(slack, "C1")[-1]
