"""When a schedule runs: each frequency, time zones, short months, daylight saving, grace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.schedules import ScheduleRuleError, due, next_occurrence, occurrence_on, recurrence


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("every", "at", "tz", "after", "expected"),
    [
        # daily: later today, else tomorrow
        ("daily", "09:00", "UTC", "2026-03-02T08:59", "2026-03-02T09:00"),
        ("daily", "09:00", "UTC", "2026-03-02T09:00", "2026-03-03T09:00"),
        # a time zone ahead of UTC: 09:00 in Seoul is 00:00 UTC
        ("daily", "09:00", "Asia/Seoul", "2026-03-02T00:30", "2026-03-03T00:00"),
        # weekdays: Friday evening -> Monday
        ("weekdays", "09:00", "UTC", "2026-03-06T10:00", "2026-03-09T09:00"),
        # weekly on Monday, from a Tuesday
        ("weekly:mon", "09:30", "UTC", "2026-03-03T00:00", "2026-03-09T09:30"),
        ("weekly:sun", "18:00", "Europe/Paris", "2026-03-02T00:00", "2026-03-08T17:00"),
        # monthly on the 31st: February has 28 days in 2026, so its last day
        ("monthly:31", "09:00", "UTC", "2026-02-01T00:00", "2026-02-28T09:00"),
        ("monthly:31", "09:00", "UTC", "2026-02-28T09:00", "2026-03-31T09:00"),
        ("monthly:30", "09:00", "UTC", "2026-04-01T00:00", "2026-04-30T09:00"),
        ("monthly:29", "09:00", "UTC", "2028-02-01T00:00", "2028-02-29T09:00"),  # leap year
        ("monthly:1", "00:00", "UTC", "2026-12-15T00:00", "2027-01-01T00:00"),
        # the daylight-saving gap: 02:30 does not exist on 2026-03-08 in New York -> 03:00 EDT
        ("daily", "02:30", "America/New_York", "2026-03-08T00:00", "2026-03-08T07:00"),
        # the ambiguous hour: 01:30 happens twice on 2026-11-01 in New York -> the first (EDT)
        ("daily", "01:30", "America/New_York", "2026-11-01T00:00", "2026-11-01T05:30"),
    ],
)
def test_next_occurrence(every: str, at: str, tz: str, after: str, expected: str) -> None:
    rule = recurrence(every=every, at=at, tz=tz)
    assert next_occurrence(rule, after=utc(after)) == utc(expected)


def test_the_gap_moves_to_the_first_valid_minute_after_it() -> None:
    rule = recurrence(every="daily", at="02:00", tz="Europe/Berlin")
    # 2026-03-29: clocks jump from 02:00 to 03:00 CET->CEST; 03:00 CEST is 01:00 UTC.
    assert occurrence_on(rule, date(2026, 3, 29)) == utc("2026-03-29T01:00")
    # The next day is normal again.
    assert occurrence_on(rule, date(2026, 3, 30)) == utc("2026-03-30T00:00")


def test_an_ambiguous_time_runs_once_at_its_first_occurrence() -> None:
    rule = recurrence(every="daily", at="02:30", tz="Europe/Berlin")
    # 2026-10-25: 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC); only the first is a run.
    first = next_occurrence(rule, after=utc("2026-10-24T12:00"))
    assert first == utc("2026-10-25T00:30")
    assert next_occurrence(rule, after=first) == utc("2026-10-26T01:30")


@pytest.mark.parametrize(
    ("every", "at", "tz", "words"),
    [
        ("hourly", "09:00", "UTC", "--every"),
        ("weekly:monday", "09:00", "UTC", "--every"),
        ("monthly:32", "09:00", "UTC", "--every"),
        ("monthly:0", "09:00", "UTC", "--every"),
        ("daily", "24:00", "UTC", "--at"),
        ("daily", "9am", "UTC", "--at"),
        ("daily", "09:00", "Mars/Olympus", "--tz"),
        ("daily", "09:00", "../etc/passwd", "--tz"),
    ],
)
def test_rules_that_cannot_be_understood_say_which_part(
    every: str, at: str, tz: str, words: str
) -> None:
    with pytest.raises(ScheduleRuleError, match=words):
        recurrence(every=every, at=at, tz=tz)


def test_rules_read_back_as_they_were_given() -> None:
    rule = recurrence(every="Weekly:FRI", at="7:05", tz="Asia/Seoul")
    assert (rule.every, rule.at) == ("weekly:fri", "07:05")


GRACE = timedelta(minutes=60)
DAILY = recurrence(every="daily", at="09:00", tz="UTC")


@pytest.mark.parametrize(
    ("since", "now", "expected"),
    [
        # nothing occurred since the last claim
        ("2026-03-02T09:00", "2026-03-03T08:59", None),
        # on time
        ("2026-03-02T09:00", "2026-03-03T09:00", ("2026-03-03T09:00", True, 0)),
        # 59 minutes late (the bot was down): still runs
        ("2026-03-02T09:00", "2026-03-03T09:59", ("2026-03-03T09:00", True, 0)),
        # 60 minutes late: missed
        ("2026-03-02T09:00", "2026-03-03T10:00", ("2026-03-03T09:00", False, 0)),
        # down for three days: only the latest occurrence counts, the two before are skipped
        ("2026-03-02T09:00", "2026-03-05T09:10", ("2026-03-05T09:00", True, 2)),
        ("2026-03-02T09:00", "2026-03-05T12:00", ("2026-03-05T09:00", False, 2)),
    ],
)
def test_after_downtime_only_the_latest_occurrence_runs_within_the_grace(
    since: str, now: str, expected: tuple[str, bool, int] | None
) -> None:
    found = due(DAILY, since=utc(since), now=utc(now), grace=GRACE)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.occurrence, found.run, found.skipped_before) == (
            utc(expected[0]),
            expected[1],
            expected[2],
        )


def test_the_grace_period_is_a_setting_in_minutes() -> None:
    from bot.config import ConfigError, load_settings

    assert load_settings({}, dotenv_path=None).schedule_grace_s == 3600
    env = {"INSIGHTBOT_SCHEDULE_GRACE_MINUTES": "90"}
    assert load_settings(env, dotenv_path=None).schedule_grace_s == 5400
    with pytest.raises(ConfigError, match="INSIGHTBOT_SCHEDULE_GRACE_MINUTES"):
        load_settings({"INSIGHTBOT_SCHEDULE_GRACE_MINUTES": "soon"}, dotenv_path=None)
