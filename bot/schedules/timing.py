"""When a schedule runs: its recurrence rule, the next occurrence, and what is due after a gap.

Pure: no clock, no I/O. Every instant in and out is a timezone-aware UTC ``datetime``; the rule's
wall-clock time is read in its IANA time zone (zoneinfo), so a schedule "at 09:00 in
Asia/Seoul" stays at nine there whatever the server's zone and across daylight saving.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough to find the next monthly occurrence (the 31st may be two months away) with margin.
_SEARCH_DAYS = 70
_GAP_LIMIT_MINUTES = 24 * 60  # no zone skips a day; past this the time is taken as it is


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ScheduleRuleError(ValueError):
    """A recurrence, time or time zone that cannot be understood (the message says which)."""


@dataclass(frozen=True)
class Recurrence:
    """How often and when: ``day`` is 0 (Monday)..6 for weekly, 1..31 for monthly, else 0."""

    frequency: Frequency
    hour: int
    minute: int
    tz: str
    day: int = 0

    @property
    def every(self) -> str:
        """The rule as ``insightbot schedules add --every`` takes it (stored as this too)."""
        if self.frequency is Frequency.WEEKLY:
            return f"weekly:{WEEKDAYS[self.day]}"
        if self.frequency is Frequency.MONTHLY:
            return f"monthly:{self.day}"
        return self.frequency.value

    @property
    def at(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def runs_on(self, day: date) -> bool:
        """Whether the rule has an occurrence on this local date."""
        if self.frequency is Frequency.DAILY:
            return True
        if self.frequency is Frequency.WEEKDAYS:
            return day.weekday() < 5
        if self.frequency is Frequency.WEEKLY:
            return day.weekday() == self.day
        # Day 29-31 in a shorter month: its last day.
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(self.day, last)


def recurrence(*, every: str, at: str, tz: str) -> Recurrence:
    """Parse ``every`` (daily | weekdays | weekly:mon..sun | monthly:1..31), ``at`` (HH:MM,
    24-hour) and ``tz`` (an IANA name such as Asia/Seoul). Raises ScheduleRuleError."""
    frequency, day = _parse_every(every)
    hour, minute = _parse_at(at)
    _zone(tz)
    return Recurrence(frequency=frequency, hour=hour, minute=minute, tz=tz, day=day)


def _parse_every(text: str) -> tuple[Frequency, int]:
    kind, _, arg = text.strip().lower().partition(":")
    if kind in (Frequency.DAILY, Frequency.WEEKDAYS) and not arg:
        return Frequency(kind), 0
    if kind == Frequency.WEEKLY and arg in WEEKDAYS:
        return Frequency.WEEKLY, WEEKDAYS.index(arg)
    if kind == Frequency.MONTHLY and arg.isdigit() and 1 <= int(arg) <= 31:
        return Frequency.MONTHLY, int(arg)
    raise ScheduleRuleError(
        f"--every must be daily, weekdays, weekly:mon..sun or monthly:1..31, got {text!r}."
    )


def _parse_at(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if match is None:
        raise ScheduleRuleError(f"--at must be a time like 09:00 (24-hour), got {text!r}.")
    return int(match[1]), int(match[2])


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleRuleError(
            f"--tz must be a time zone name like Asia/Seoul or UTC, got {name!r}."
        ) from exc


def occurrence_on(rule: Recurrence, day: date) -> datetime:
    """The instant (UTC) of the rule's wall-clock time on local date ``day``.

    A time that does not exist that day (the daylight-saving gap) moves to the first valid
    minute after it; an ambiguous one (the hour repeated when clocks go back) is its first.
    """
    zone = _zone(rule.tz)
    wall = datetime.combine(day, time(rule.hour, rule.minute))
    for step in range(_GAP_LIMIT_MINUTES):
        candidate = wall + timedelta(minutes=step)
        aware = candidate.replace(tzinfo=zone, fold=0)  # fold=0: the first of an ambiguous pair
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def next_occurrence(rule: Recurrence, *, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``."""
    start = after.astimezone(_zone(rule.tz)).date() - timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if rule.runs_on(day):
            at = occurrence_on(rule, day)
            if at > after:
                return at
    raise AssertionError("every rule occurs within two months")  # pragma: no cover


def latest_occurrence(rule: Recurrence, *, at_or_before: datetime) -> datetime | None:
    """The last occurrence at or before ``at_or_before`` within the search window, or None."""
    end = at_or_before.astimezone(_zone(rule.tz)).date() + timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        day = end - timedelta(days=offset)
        if rule.runs_on(day):
            at = occurrence_on(rule, day)
            if at <= at_or_before:
                return at
    return None


@dataclass(frozen=True)
class Due:
    """An occurrence to claim now: ``run`` it, or record it as missed (too late to run)."""

    occurrence: datetime
    run: bool
    skipped_before: int  # earlier occurrences in the gap that are not run (downtime)


def due(rule: Recurrence, *, since: datetime, now: datetime, grace: timedelta) -> Due | None:
    """What is due at ``now`` for a schedule whose last claimed occurrence (or creation) is
    ``since``: None when nothing occurred in (since, now]. After downtime only the latest
    missed occurrence counts; it runs when it is less than ``grace`` late, else it is missed.
    """
    latest = latest_occurrence(rule, at_or_before=now)
    if latest is None or latest <= since:
        return None
    skipped = 0
    cursor = since
    while (following := next_occurrence(rule, after=cursor)) < latest:
        skipped += 1
        cursor = following
    return Due(occurrence=latest, run=now - latest < grace, skipped_before=skipped)
