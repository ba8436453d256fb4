"""Which file a scheduled run uses, whether it runs, and that fair-use limits never refuse it."""

from __future__ import annotations

from bot.admission import (
    AT_RUNNING_LIMIT,
    TOO_MANY_WAITING,
    Limits,
    UserLoad,
    Verdict,
    admission_for,
)
from bot.schedules.choice import newest_matching, newest_pattern, plan_run
from bot.types import SlackFile

HOME = frozenset({"T0HOME"})


def f(file_id: str, name: str, created: float, **extra: object) -> SlackFile:
    return SlackFile(id=file_id, name=name, created=created, **extra)  # type: ignore[arg-type]


def test_the_newest_file_named_like_the_pattern_is_chosen() -> None:
    files = [
        f("F1", "sales_1101.csv", 100),
        f("F2", "Sales_1102.CSV", 200),  # names match whatever their case
        f("F3", "notes.csv", 300),
        f("F4", "sales_1103.csv", 400, is_remote=True),  # a link elsewhere: never used
        f("F5", "sales_1104.csv", 500, user_team="T0OTHER"),  # another organisation's
    ]
    found = newest_matching(files, pattern="sales_*.csv", home_teams=HOME, allow_external=False)
    assert found is not None and found.id == "F2"
    found = newest_matching(files, pattern="sales_*.csv", home_teams=HOME, allow_external=True)
    assert found is not None and found.id == "F5"
    assert newest_matching(files, pattern="*.xlsx", home_teams=HOME, allow_external=True) is None


def test_a_run_skips_without_a_file_or_when_its_file_is_unchanged() -> None:
    new = f("F2", "sales.csv", 200)
    assert newest_pattern("newest:sales_*.csv") == "sales_*.csv" and newest_pattern("same") is None
    assert plan_run(pattern=None, found=None, last_file_id="F1", skip_unchanged=True).run
    assert (
        plan_run(pattern="s*", found=None, last_file_id=None, skip_unchanged=False).skip_reason
        == "no_file"
    )
    same = plan_run(pattern="s*", found=new, last_file_id="F2", skip_unchanged=True)
    assert not same.run and same.skip_reason == "unchanged"
    again = plan_run(pattern="s*", found=new, last_file_id="F2", skip_unchanged=False)
    assert again.run and again.file == new


def test_a_scheduled_run_waits_where_a_question_would_be_refused() -> None:
    limits = Limits(max_running=1, max_waiting=2, max_question_chars=100)
    full = UserLoad(running=1, waiting=2)
    asked = admission_for(question_chars=10, load=full, limits=limits)
    assert (asked.verdict, asked.reason) == (Verdict.REFUSE, TOO_MANY_WAITING)
    scheduled = admission_for(question_chars=10, load=full, limits=limits, scheduled=True)
    assert (scheduled.verdict, scheduled.reason) == (Verdict.WAIT, AT_RUNNING_LIMIT)
