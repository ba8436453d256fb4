"""`insightbot schedules`: list, add and delete recurring analyses from the command line.

Operator output is plain English on stdout, like `insightbot channels`; a running bot reads
the schedules from the database at every tick, so an added schedule takes effect within a
minute.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.errors import ConfigError
from bot.schedules import ScheduleRuleError, next_occurrence, recurrence
from storage import open_store
from storage.records import ScheduleRecord

__all__ = ["files_choice", "schedules_add", "schedules_delete", "schedules_list"]

_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,31}")
_USER = re.compile(r"[UW][A-Z0-9]{2,31}")
_FILE = re.compile(r"F[A-Z0-9]{2,31}")


def files_choice(text: str) -> tuple[str, tuple[str, ...]]:
    """The data source and, for ``same:F…,F…``, its Slack file ids: ``newest:PATTERN`` (a
    shell-style pattern on file names, e.g. sales_*.csv), ``same:FILE_ID,…`` (those files at
    every run) or ``same`` (no files of its own: a run reads the channel's recent files like a
    question without files). Raises ConfigError."""
    kind, colon, rest = text.strip().partition(":")
    if kind == "same" and not colon:
        return "same", ()
    if kind == "same" and colon:
        ids = tuple(part.strip() for part in rest.split(",") if part.strip())
        if ids and all(_FILE.fullmatch(i) for i in ids):
            return "same", ids
    if kind == "newest" and colon and rest.strip() and "/" not in rest:
        return f"newest:{rest.strip()}", ()
    raise ConfigError(
        "--files must be newest:PATTERN (like newest:sales_*.csv), same:FILE_ID[,FILE_ID…] "
        f"(like same:F0123ABCD) or same, got {text!r}."
    )


def next_run(schedule: ScheduleRecord, *, now: float) -> datetime:
    rule = recurrence(every=schedule.every, at=schedule.at, tz=schedule.tz)
    after = datetime.fromtimestamp(max(now, schedule.last_occurrence_at), UTC)
    return next_occurrence(rule, after=after)


def _json(schedule: ScheduleRecord, *, now: float) -> dict[str, Any]:
    row = asdict(schedule)
    row["next_run"] = next_run(schedule, now=now).isoformat()
    return row


async def schedules_list(
    settings: Settings, *, as_json: bool, say: Callable[[str], None], now: float | None = None
) -> int:
    at = time.time() if now is None else now
    store = await open_store(settings.db_path)
    try:
        found = await store.schedules()
    finally:
        await store.close()
    if as_json:
        say(json.dumps([_json(s, now=at) for s in found], indent=2))
        return 0
    if not found:
        say("No schedules.")
        return 0
    say(
        "ID    CHANNEL      USER         EVERY        AT     TZ                STATE   NEXT RUN (UTC)    FILES"
    )
    for s in found:
        upcoming = next_run(s, now=at).strftime("%Y-%m-%d %H:%M")
        say(
            f"{s.id:<5} {s.channel:<12} {s.user:<12} {s.every:<12} {s.at:<6} {s.tz:<17} "
            f"{s.state:<7} {upcoming:<17} {s.files}"
        )
        say(f"      {s.question}")
    return 0


async def schedules_add(
    settings: Settings,
    *,
    channel: str,
    user: str,
    question: str,
    every: str,
    at: str,
    tz: str | None,
    files: str,
    skip_unchanged: bool,
    say: Callable[[str], None],
    now: float | None = None,
    post_skipped: bool = False,
) -> int:
    """Check every part, then store the schedule; returns the exit code."""
    if not _CHANNEL.fullmatch(channel):
        raise ConfigError(f"--channel must be a Slack channel id like C0123ABCD, got {channel!r}.")
    if not _USER.fullmatch(user):
        raise ConfigError(f"--user must be a Slack user id like U0123ABCD, got {user!r}.")
    if not question.strip():
        raise ConfigError("--question must say what to ask.")
    if len(question) > settings.max_question_chars:
        raise ConfigError(
            f"--question is longer than INSIGHTBOT_MAX_QUESTION_CHARS "
            f"({settings.max_question_chars} characters)."
        )
    try:
        rule = recurrence(every=every, at=at, tz=tz or settings.timezone)
    except ScheduleRuleError as error:
        raise ConfigError(str(error)) from error
    chosen, file_ids = files_choice(files)
    record = ScheduleRecord(
        channel=channel,
        user=user,
        question=question.strip(),
        every=rule.every,
        at=rule.at,
        tz=rule.tz,
        files=chosen,
        file_ids=file_ids,
        skip_unchanged=skip_unchanged,
        post_skipped=post_skipped,
        created_by="cli",
        created_at=time.time() if now is None else now,
    )
    store = await open_store(settings.db_path)
    try:
        stored = await store.add_schedule(record)
    finally:
        await store.close()
    upcoming = next_run(stored, now=stored.created_at)
    local = upcoming.astimezone(ZoneInfo(rule.tz)).strftime("%Y-%m-%d %H:%M")
    say(
        f"Schedule {stored.id} added: {rule.every} at {rule.at} ({rule.tz}) in {channel} for "
        f"{user}; next run {local} {rule.tz} (a running bot sees it within a minute)."
    )
    return 0


async def schedules_delete(
    settings: Settings, *, schedule_id: int, say: Callable[[str], None]
) -> int:
    store = await open_store(settings.db_path)
    try:
        deleted = await store.delete_schedule(schedule_id)
    finally:
        await store.close()
    if not deleted:
        raise ConfigError(
            f"There is no schedule {schedule_id} (`insightbot schedules` lists them)."
        )
    say(f"Schedule {schedule_id} deleted.")
    return 0
