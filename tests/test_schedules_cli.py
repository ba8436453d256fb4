"""`insightbot schedules`: operators list, add and delete recurring analyses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("INSIGHTBOT_DB", str(db))
    monkeypatch.setenv("INSIGHTBOT_TIMEZONE", "Asia/Seoul")
    monkeypatch.chdir(db.parent)
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


ADD = ("schedules", "add", "--channel", "C0SALES", "--user", "U0ANNA")


def test_add_list_and_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "insightbot.db"
    code, out, _ = run(
        monkeypatch, capsys, db, *ADD, "--question", "Weekly sales by region?",
        "--every", "weekly:mon", "--at", "09:00", "--files", "newest:sales_*.csv",
        "--skip-unchanged",
    )  # fmt: skip
    assert code == 0 and "Schedule 1 added" in out and "Asia/Seoul" in out
    code, out, _ = run(
        monkeypatch, capsys, db, *ADD, "--question", "Churn?", "--every", "monthly:31",
        "--at", "7:30", "--tz", "Europe/Paris",
    )  # fmt: skip
    assert code == 0 and "Schedule 2 added" in out
    code, out, _ = run(monkeypatch, capsys, db, "schedules", "--json")
    listed = json.loads(out)
    assert [(s["id"], s["every"], s["at"], s["tz"], s["files"], s["skip_unchanged"]) for s in listed] == [
        (1, "weekly:mon", "09:00", "Asia/Seoul", "newest:sales_*.csv", True),
        (2, "monthly:31", "07:30", "Europe/Paris", "same", False),
    ]  # fmt: skip
    # The next run of a Monday-09:00 Seoul schedule is a Monday at 00:00 UTC.
    from datetime import datetime

    upcoming = datetime.fromisoformat(listed[0]["next_run"])
    assert upcoming.weekday() == 0 and (upcoming.hour, upcoming.minute) == (0, 0)
    code, out, _ = run(monkeypatch, capsys, db, "schedules")
    assert "Weekly sales by region?" in out and "weekly:mon" in out
    code, out, _ = run(
        monkeypatch, capsys, db, *ADD, "--question", "Q3 totals?", "--every", "daily",
        "--at", "08:00", "--files", "same:F0Q3SALES,F0Q3COSTS",
    )  # fmt: skip
    assert code == 0 and "Schedule 3 added" in out
    code, out, _ = run(monkeypatch, capsys, db, "schedules", "--json")
    third = json.loads(out)[2]
    assert (third["files"], third["file_ids"]) == ("same", ["F0Q3SALES", "F0Q3COSTS"])
    code, out, _ = run(monkeypatch, capsys, db, "schedules", "delete", "1")
    assert code == 0 and "Schedule 1 deleted" in out
    code, _, err = run(monkeypatch, capsys, db, "schedules", "delete", "1")
    assert code == 2 and "no schedule 1" in err
    code, out, _ = run(monkeypatch, capsys, db, "schedules", "--json")
    assert [s["id"] for s in json.loads(out)] == [2, 3]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--channel", "sales", "--user", "U0ANNA"), "--channel"),
        (("--channel", "C0SALES", "--user", "anna"), "--user"),
        (("--every", "hourly"), "--every"),
        (("--at", "25:00"), "--at"),
        (("--tz", "Moon/Base"), "--tz"),
        (("--files", "latest"), "--files"),
        (("--files", "same:sales.csv"), "--files"),
        (("--files", "same:"), "--files"),
        (("--question", "  "), "--question"),
    ],
)
def test_add_refuses_what_it_cannot_run_naming_the_option(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    words: str,
) -> None:
    given = {
        "--channel": "C0SALES", "--user": "U0ANNA", "--question": "Sales?",
        "--every": "daily", "--at": "09:00",
    }  # fmt: skip
    extra: list[str] = []
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name in given:
            given[name] = value
        else:
            extra += [name, value]
    flat = [part for pair in given.items() for part in pair]
    db = tmp_path / "insightbot.db"
    code, out, err = run(monkeypatch, capsys, db, "schedules", "add", *flat, *extra)
    assert code == 2 and words in err and not out
    code, out, _ = run(monkeypatch, capsys, db, "schedules", "--json")
    assert json.loads(out) == []
