"""The admission decision as a table, and its per-person counts and note gate."""

from __future__ import annotations

import pytest

from bot.admission import (
    AT_RUNNING_LIMIT,
    TOO_LONG,
    TOO_MANY_WAITING,
    Admission,
    Limits,
    NoteGate,
    UserLoad,
    UserLoads,
    Verdict,
    admission_for,
)

DEFAULT = Limits(max_running=3, max_waiting=10, max_question_chars=20_000)
OFF = Limits(max_running=0, max_waiting=0, max_question_chars=20_000)

RUN = Admission(Verdict.RUN)
WAIT = Admission(Verdict.WAIT, AT_RUNNING_LIMIT)
BUSY = Admission(Verdict.REFUSE, TOO_MANY_WAITING)
LONG = Admission(Verdict.REFUSE, TOO_LONG)


@pytest.mark.parametrize(
    ("chars", "running", "waiting", "limits", "expected"),
    [
        (10, 0, 0, DEFAULT, RUN),
        (10, 2, 0, DEFAULT, RUN),
        (10, 3, 0, DEFAULT, WAIT),
        (10, 2, 1, DEFAULT, WAIT),  # the waiting one goes first, so this one waits too
        (10, 3, 9, DEFAULT, WAIT),
        (10, 3, 10, DEFAULT, BUSY),
        (10, 0, 10, DEFAULT, BUSY),  # waiting for their threads or the global line counts too
        (20_000, 0, 0, DEFAULT, RUN),
        (20_001, 0, 0, DEFAULT, LONG),
        (20_001, 3, 10, DEFAULT, LONG),  # the length is told first: it is the user's to fix
        (10, 50, 50, OFF, RUN),
        (20_001, 0, 0, OFF, LONG),  # the length limit is not a fair-use limit
        (10, 5, 0, Limits(max_running=0, max_waiting=2, max_question_chars=100), RUN),
        (10, 5, 2, Limits(max_running=0, max_waiting=2, max_question_chars=100), BUSY),
        (10, 1, 40, Limits(max_running=1, max_waiting=0, max_question_chars=100), WAIT),
    ],
)
def test_admission_table(
    chars: int, running: int, waiting: int, limits: Limits, expected: Admission
) -> None:
    load = UserLoad(running=running, waiting=waiting)
    assert admission_for(question_chars=chars, load=load, limits=limits) == expected


def test_loads_follow_a_turn_from_waiting_to_done_and_forget_idle_people() -> None:
    loads = UserLoads()
    loads.add_waiting("U1")
    loads.add_waiting("U1")
    assert loads.of("U1") == UserLoad(running=0, waiting=2)
    loads.start("U1")
    assert loads.of("U1") == UserLoad(running=1, waiting=1)
    assert loads.of("U2") == UserLoad()
    loads.finish("U1")
    loads.drop_waiting("U1")
    assert loads.of("U1") == UserLoad()
    assert not loads._running and not loads._waiting  # nothing kept for idle people


def test_one_note_per_person_and_kind_per_minute() -> None:
    gate = NoteGate(interval_s=60)
    assert gate.allow(user="U1", kind="a", now=0)
    assert not gate.allow(user="U1", kind="a", now=59)
    assert gate.allow(user="U1", kind="b", now=59)
    assert gate.allow(user="U2", kind="a", now=59)
    assert gate.allow(user="U1", kind="a", now=60)
