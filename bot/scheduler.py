"""The schedule loop: every half minute, claim the occurrences that came due and run each as
a normal turn.

A run posts a new top-level message in the schedule's channel ("Scheduled by <name>: ...",
the name and not a mention) and hands the question to ``Intake`` with that message as its
thread, the schedule's owner as the asker (budgets and usage are theirs) and the newest
matching file of the channel (files.list) as its file. Each occurrence is claimed in the
database before anything is posted, so a restart or a second process never runs it twice;
the schedules are read at every tick, so one added by `insightbot schedules add` takes effect
within a minute. Time comes from a ``Clock`` that tests move.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot import messages
from bot.errors import InsightbotError, SlackProblem
from bot.intake import Intake
from bot.lifecycle import Clock, SystemClock
from bot.schedule_access import admit_scheduled_run, count_finished_runs, count_run
from bot.schedule_runs import post_skipped, report_interrupted, same_files, tell_files_gone
from bot.schedules import ScheduleRuleError, due, recurrence
from bot.schedules.access_rules import channel_type_of
from bot.schedules.choice import newest_matching, newest_pattern, plan_run
from bot.types import IncomingMessage, ThreadKey
from storage.records import CLAIMED, MISSED, POSTED, RUN_FAILED, SKIPPED, ScheduleRecord

log = logging.getLogger(__name__)

TICK_S = 30.0


class Scheduler:
    """Runs ``tick`` in a loop (``run``); ``runs`` counts the runs it started (tests wait on
    it)."""

    def __init__(self, *, intake: Intake, clock: Clock | None = None) -> None:
        self._intake = intake
        self._services = intake.services
        self.clock: Clock = clock or SystemClock()
        self._team: str | None = None
        self.runs = 0
        self.ticks = 0
        self.looked_at = 0.0  # the time the latest finished tick looked at (tests wait on it)
        # Runs claimed before this moment belong to an earlier process (see ``run``).
        self.started_at = self.clock.now()

    async def run(self) -> None:
        """Tick now and then every ``TICK_S``; never returns until cancelled. A failed tick
        is logged and tried again at the next. First, the runs an earlier process left
        interrupted are reported."""
        try:
            await report_interrupted(
                services=self._services, before=self.started_at, team=self._team_id
            )
        except InsightbotError as error:
            log.warning("interrupted schedule runs not reported: %s", error.detail)
        while True:
            # Ticks keep their cadence from when each began, however long one takes.
            began = self.clock.now()
            try:
                await self.tick()
            except InsightbotError as error:
                log.warning("schedule tick failed: %s", error.detail)
            await self.clock.sleep(max(0.0, began + TICK_S - self.clock.now()))

    async def tick(self) -> int:
        """Claim and start what is due now; returns how many runs started."""
        started = 0
        now = self.clock.now()
        for schedule in await self._services.store.schedules(active_only=True):
            if self._intake.runner.closing:
                break
            try:
                if await count_finished_runs(self._services, schedule, now=now):
                    continue  # paused after failing runs
                started += await self._consider(schedule, now=now)
            except InsightbotError as error:
                log.warning("schedule %s: run not started: %s", schedule.id, error.detail)
        self.ticks += 1
        self.looked_at = now
        return started

    async def _consider(self, schedule: ScheduleRecord, *, now: float) -> int:
        store = self._services.store
        try:
            rule = recurrence(every=schedule.every, at=schedule.at, tz=schedule.tz)
        except ScheduleRuleError as error:
            log.warning("schedule %s has a rule that cannot be read: %s", schedule.id, error)
            return 0
        found = due(
            rule,
            since=datetime.fromtimestamp(schedule.last_occurrence_at, UTC),
            now=datetime.fromtimestamp(now, UTC),
            grace=timedelta(seconds=self._services.settings.schedule_grace_s),
        )
        if found is None:
            return 0
        at = found.occurrence.timestamp()
        outcome = CLAIMED if found.run else MISSED
        # The claim comes before anything is posted: whoever gets it is the only runner.
        if not await store.claim_occurrence(
            schedule_id=schedule.id, occurrence_at=at, outcome=outcome, now=now
        ):
            return 0
        if not found.run:
            log.info("schedule %s: the run of %s was missed (too late)", schedule.id, found)
            return 0
        # Access is checked at every run, before anything is posted.
        home_teams = frozenset({schedule.team or await self._team_id()})
        owner = await admit_scheduled_run(
            self._services, schedule, occurrence_at=at, home_teams=home_teams, now=now
        )
        if owner is None:
            return 0
        missed = found.skipped_before + await self._missed_since_last_run(schedule.id, at)
        try:
            return await self._start(
                schedule, occurrence_at=at, missed=missed, owner_name=owner.name or schedule.user
            )
        except SlackProblem:
            # Slack refused the run's message or its files: the claim is settled as a failed
            # run, which counts toward pausing, rather than left to look interrupted at the
            # next start. (A database failure stays claimed, like a crash, and is reported.)
            await store.settle_occurrence(
                schedule_id=schedule.id, occurrence_at=at, outcome=RUN_FAILED
            )
            await count_run(self._services, schedule, failed=True, now=self.clock.now())
            raise

    async def _missed_since_last_run(self, schedule_id: int, occurrence_at: float) -> int:
        outcomes = await self._services.store.occurrence_outcomes(schedule_id)
        missed = 0
        for at, outcome in reversed(outcomes):
            if at >= occurrence_at:
                continue
            if outcome != MISSED:
                break
            missed += 1
        return missed

    async def _start(
        self, schedule: ScheduleRecord, *, occurrence_at: float, missed: int, owner_name: str
    ) -> int:
        services, store = self._services, self._services.store
        pattern = newest_pattern(schedule.files)
        newest = None
        if pattern is not None:
            # Inclusive ts_from: the file the last run used is listed again, so an unchanged
            # channel is told apart from an empty one.
            files = await services.slack.channel_files(
                channel=schedule.channel, since=schedule.last_file_at or 0.0
            )
            team = await self._team_id()
            newest = newest_matching(
                files,
                pattern=pattern,
                home_teams=frozenset(t for t in (schedule.team or team,) if t),
                allow_external=services.settings.external_users == "allow",
            )
        plan = plan_run(
            pattern=pattern,
            found=newest,
            last_file_id=schedule.last_file_id,
            skip_unchanged=schedule.skip_unchanged,
        )
        if not plan.run:
            log.info("schedule %s: run skipped (%s)", schedule.id, plan.skip_reason)
            await store.settle_occurrence(
                schedule_id=schedule.id, occurrence_at=occurrence_at, outcome=SKIPPED
            )
            await post_skipped(
                services=services, schedule=schedule, reason=plan.skip_reason, newest=newest
            )
            return 0
        same = await same_files(services=services, schedule=schedule)
        lang = messages.language_of(schedule.question)
        lines = [messages.scheduled_by(lang, owner_name, schedule.question)]
        if plan.file is not None:
            lines.append(messages.scheduled_file(lang, plan.file.name))
        if missed:
            lines.append(messages.scheduled_runs_missed(lang, missed))
        ts = await services.slack.post_message(
            channel=schedule.channel, thread_ts=None, text="\n".join(lines)
        )
        # Noted at once: a crash before the turn is stored still leaves the run's thread known.
        await store.settle_occurrence(
            schedule_id=schedule.id, occurrence_at=occurrence_at, outcome=CLAIMED, message_ts=ts
        )
        team = schedule.team or await self._team_id()
        thread = ThreadKey(team=team, channel=schedule.channel, thread_ts=ts)
        if same is not None and same.gone:
            await tell_files_gone(
                services=services, schedule=schedule, thread=thread, gone=same.gone
            )
            # A run that cannot have its files failed: it counts toward pausing.
            await store.settle_occurrence(
                schedule_id=schedule.id, occurrence_at=occurrence_at, outcome=RUN_FAILED
            )
            await count_run(services, schedule, failed=True, now=self.clock.now())
            self.runs += 1
            return 1
        message = IncomingMessage(
            thread=thread,
            ts=ts,
            user=schedule.user,
            text=schedule.question,
            files=same.found if same is not None else (plan.file,) if plan.file is not None else (),
            channel_type=channel_type_of(schedule.channel),
            is_mention=True,
            scheduled=True,
        )
        turn = await self._intake.accept_message(message, scheduled=True)
        await store.settle_occurrence(
            schedule_id=schedule.id,
            occurrence_at=occurrence_at,
            outcome=POSTED,
            turn_id=turn.id if turn is not None else None,
            file_id=plan.file.id if plan.file is not None else None,
            file_at=plan.file.created if plan.file is not None else None,
        )
        self.runs += 1
        return 1

    async def _team_id(self) -> str:
        if self._team is None:
            self._team = (await self._services.slack.auth_check()).team_id
        return self._team
