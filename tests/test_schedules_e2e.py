"""Recurring analyses end to end: the real app over the fakes, with a clock the test moves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.lifecycle import SystemClock
from bot.schedules import next_occurrence, recurrence
from storage.records import RUN_ANSWERED, SKIPPED, ScheduleRecord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.harness import Harness, bot_over, harness


class MovableClock(SystemClock):
    """The system's time plus what the test added; ``sleep`` ends when the clock passes its
    end or is moved (a loop then looks at the new time: a tick that finished late in real
    time must not sleep through the test's next move)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.moves = 0
        self._moved = asyncio.Event()

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        until, moves = self.now() + seconds, self.moves
        while self.now() < until and self.moves == moves:
            self._moved.clear()
            await self._moved.wait()

    def move_to(self, at: float) -> None:
        self.offset = at - time.time()
        self.moves += 1
        self._moved.set()


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):  # 20 s
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the schedule loop did not get there")


async def at(h: Harness, clock: MovableClock, when: float) -> None:
    """Move the clock to ``when`` and wait for the schedule loop to look, and for its runs."""
    clock.move_to(when)
    # A tick that was already running when the clock moved looked at the old time: wait for
    # one that looked at the new time.
    await until(lambda: h.bot.scheduler.looked_at >= when)
    await h.settle()


def share(slack: FakeSlack, *, channel: str, name: str, content: bytes, created: float) -> str:
    """A file shared at the channel's top level (the bot is not told: files.list finds it)."""
    file = slack.add_file(name=name, content=content, user="U1")
    slack.post_user_message(channel=channel, user="U1", text="", files=[file])
    slack.files[file["id"]].created = int(created)
    return str(file["id"])


def scheduled_messages(slack: FakeSlack, channel: str) -> list[str]:
    return [m.text for m in slack.channel_messages(channel) if m.bot]


def answers(slack: FakeSlack, channel: str) -> list[str]:
    found = []
    for parent in slack.channel_messages(channel):
        if parent.bot:
            found.append(" ".join(m.text for m in slack.thread(channel, parent.ts)[1:] if m.bot))
    return found


def daily(now: float, *, files: str = "newest:sales_*.csv", skip: bool = True) -> ScheduleRecord:
    """A daily schedule whose first occurrence is a few minutes after ``now`` (UTC)."""
    first = datetime.fromtimestamp(now + 180, UTC)
    return ScheduleRecord(
        channel="C1",
        user="U0ANNA",
        question="Total amount?",
        every="daily",
        at=first.strftime("%H:%M"),
        tz="UTC",
        files=files,
        skip_unchanged=skip,
        created_at=now,
    )


def occurrences(schedule: ScheduleRecord, *, after: float, count: int) -> list[float]:
    rule = recurrence(every=schedule.every, at=schedule.at, tz=schedule.tz)
    found, cursor = [], datetime.fromtimestamp(after, UTC)
    for _ in range(count):
        cursor = next_occurrence(rule, after=cursor)
        found.append(cursor.timestamp())
    return found


async def test_a_daily_schedule_runs_once_per_occurrence_on_its_channels_newest_file(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user("U0ANNA", name="anna", real_name="Anna Kim")
        now = clock.now()
        share(
            h.slack, channel="C1", name="sales_1101.csv", content=b"a,b\nx,600\n", created=now - 900
        )
        share(
            h.slack,
            channel="C1",
            name="sales_1102.csv",
            content=b"a,b\nx,10\ny,50\n",
            created=now - 500,
        )
        share(h.slack, channel="C1", name="notes.csv", content=b"a,b\nx,1\n", created=now - 100)
        # Another channel's newer sales file is never used.
        share(
            h.slack, channel="C2", name="sales_1103.csv", content=b"a,b\nx,9999\n", created=now - 50
        )
        schedule = await h.bot.services.store.add_schedule(daily(now))
        first, second, third = occurrences(schedule, after=now, count=3)

        await at(h, clock, first - 30)  # not yet
        assert scheduled_messages(h.slack, "C1") == []

        await at(h, clock, first + 5)
        [posted] = scheduled_messages(h.slack, "C1")
        assert posted.startswith("Scheduled by anna: Total amount?") and "sales_1102.csv" in posted
        assert "<@" not in posted  # a name, not a mention: nobody is pinged
        [answer] = answers(h.slack, "C1")
        assert "sales_1102.csv: 2 rows, total 60" in answer
        assert scheduled_messages(h.slack, "C2") == []
        thread_ts = h.slack.channel_messages("C1")[-1].ts
        [turn] = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{thread_ts}")
        assert turn.user == "U0ANNA"  # the owner is the asker: budgets and usage are theirs

        await at(h, clock, first + 1800)  # the same occurrence is never run again
        assert len(scheduled_messages(h.slack, "C1")) == 1

        share(
            h.slack,
            channel="C1",
            name="sales_1104.csv",
            content=b"a,b\nx,7\n",
            created=first + 3600,
        )
        await at(h, clock, second + 5)
        assert len(scheduled_messages(h.slack, "C1")) == 2
        assert "sales_1104.csv" in scheduled_messages(h.slack, "C1")[-1]
        assert "sales_1104.csv: 1 rows, total 7" in answers(h.slack, "C1")[-1]

        await at(h, clock, third + 5)  # no new file: skip-unchanged posts nothing
        assert len(scheduled_messages(h.slack, "C1")) == 2
        outcomes = await h.bot.services.store.occurrence_outcomes(schedule.id)
        # Each posted run is counted once its turn ended (answered: no failure in a row).
        assert [o for _, o in outcomes] == [RUN_ANSWERED, RUN_ANSWERED, SKIPPED]


async def test_a_restart_across_an_occurrence_runs_it_exactly_once(tmp_path: Path) -> None:
    clock = MovableClock()
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        slack.add_user("U0ANNA", name="anna")
        now = clock.now()
        share(
            slack, channel="C1", name="sales_1101.csv", content=b"a,b\nx,600\n", created=now - 900
        )
        async with bot_over(slack, openai, db, clock=clock) as h:
            schedule = await h.bot.services.store.add_schedule(daily(now, skip=False))
        first, second, third = occurrences(schedule, after=now, count=3)

        # Down across the first occurrence; back 20 minutes later: within the grace, it runs.
        clock.move_to(first + 1200)
        for _ in range(2):  # and a second restart does not run it again
            async with bot_over(slack, openai, db, clock=clock) as h:
                await until(lambda: h.bot.scheduler.ticks > 0)
                await h.settle()
        assert len(scheduled_messages(slack, "C1")) == 1
        assert "total 600" in answers(slack, "C1")[0]

        # Down across the second occurrence for two hours: too late, it is skipped, and the
        # third run says so.
        clock.move_to(second + 7200)
        async with bot_over(slack, openai, db, clock=clock) as h:
            await until(lambda: h.bot.scheduler.ticks > 0)
            await h.settle()
            assert len(scheduled_messages(slack, "C1")) == 1
            await at(h, clock, third + 5)
        texts = scheduled_messages(slack, "C1")
        assert len(texts) == 2
        assert "1 earlier scheduled run did not happen" in texts[-1]
