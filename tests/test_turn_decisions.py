"""The pure decisions inside a turn, as tables: which files it uses, whether a stored turn is
resumed and from where, silence limits, how a turn ends, and what a failure is recorded as."""

from __future__ import annotations

import pytest

from bot.errors import (
    EngineAuthError,
    EngineQuotaExhausted,
    EngineUnavailable,
    FileUnavailable,
    OutcomeUnknown,
    SlackProblem,
)
from bot.turn.decisions import (
    EndingKind,
    ending_for,
    failure_code_of,
    files_for_turn,
    needs_resume,
    resume_cursor,
    silence_limit_s,
)
from bot.turn.state import AnswerOutcome
from bot.types import Failed, FailureCode, Finished, IncomingMessage, SlackFile, ThreadKey, Usage
from storage import StorageError
from storage.records import DONE, QUEUED, RECEIVED, RUNNING, FileRecord, TurnRecord

THREAD = ThreadKey(team="T", channel="C", thread_ts="1")


def _turn(**fields: object) -> TurnRecord:
    return TurnRecord(
        id="t", thread_key=THREAD.as_str(), message_ts="1", user="U", question="q", **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "resume"),
    [
        ({"status": RECEIVED}, False),
        ({"status": QUEUED}, False),
        ({"status": RUNNING}, False),  # running, but the engine was never asked
        ({"status": RUNNING, "run_requested": True}, True),
        ({"status": RUNNING, "response_id": "resp_1", "last_sequence": 9}, True),
        ({"status": DONE, "response_id": "resp_1"}, False),
    ],
)
def test_a_stored_turn_is_resumed_only_when_a_run_may_exist(
    fields: dict[str, object], resume: bool
) -> None:
    assert needs_resume(_turn(**fields)) is resume


@pytest.mark.parametrize(("last", "cursor"), [(None, None), (0, 0), (41, 41)])
def test_a_resumed_run_continues_after_its_last_handled_event(
    last: int | None, cursor: int | None
) -> None:
    assert resume_cursor(_turn(status=RUNNING, last_sequence=last)) == cursor


@pytest.mark.parametrize(("timeout", "limit"), [(900, 60), (120, 40), (30, 10)])
def test_a_stream_may_be_silent_a_third_of_the_timeout_at_most_a_minute(
    timeout: float, limit: float
) -> None:
    assert silence_limit_s(timeout) == limit


FINISHED = Finished(text="done", usage=Usage())


@pytest.mark.parametrize(
    ("outcome", "resumed", "kind", "code", "retryable", "operator", "words"),
    [
        (AnswerOutcome(finished=FINISHED), False, EndingKind.ANSWERED, None, False, False, ""),
        (AnswerOutcome(stopped_by="U2"), False, EndingKind.STOPPED, FailureCode.STOPPED, False, False, ""),
        (AnswerOutcome(timed_out=True), False, EndingKind.FAILED, FailureCode.TIMEOUT, True, False, "15 min"),
        (AnswerOutcome(), False, EndingKind.FAILED, FailureCode.NO_OUTCOME, True, False, "went wrong"),
        (
            AnswerOutcome(failed=Failed("quota gone", FailureCode.INSUFFICIENT_QUOTA)),
            False, EndingKind.FAILED, FailureCode.INSUFFICIENT_QUOTA, False, True, "quota is used up",
        ),
        (
            AnswerOutcome(
                failed=Failed("boom", FailureCode.RESPONSE_FAILED, retryable=True, detail="boom")
            ),
            False, EndingKind.FAILED, FailureCode.RESPONSE_FAILED, True, False, "boom",
        ),
        (
            AnswerOutcome(failed=Failed("gone", FailureCode.NOT_RESUMABLE)),
            True, EndingKind.FAILED, FailureCode.NOT_RESUMABLE, True, False, "pick the analysis up",
        ),
        # An answer wins over everything else that may have been noted.
        (AnswerOutcome(finished=FINISHED, timed_out=True), False, EndingKind.ANSWERED, None, False, False, ""),
    ],
)  # fmt: skip
def test_how_a_turn_ends(
    outcome: AnswerOutcome,
    resumed: bool,
    kind: EndingKind,
    code: FailureCode | None,
    retryable: bool,
    operator: bool,
    words: str,
) -> None:
    ending = ending_for(outcome, lang="en", run_timeout_s=900, resumed=resumed)
    assert (ending.kind, ending.code) == (kind, code)
    assert ending.retryable is retryable and ending.operator_must_act is operator
    assert words in ending.message


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (EngineQuotaExhausted(), FailureCode.INSUFFICIENT_QUOTA),
        (EngineAuthError(), FailureCode.AUTH),
        (EngineUnavailable(), FailureCode.UNAVAILABLE),
        (OutcomeUnknown(), FailureCode.OUTCOME_UNKNOWN),
        (FileUnavailable("gone", file_name="a.csv"), FailureCode.FILE_PROBLEM),
        (SlackProblem(), FailureCode.SLACK_REFUSED),
        (StorageError(), FailureCode.STORAGE),
        (RuntimeError("bug"), FailureCode.CRASHED),
    ],
)
def test_an_error_inside_a_turn_is_recorded_with_its_code(
    error: BaseException, code: FailureCode
) -> None:
    assert failure_code_of(error) is code


def _files(*names: str) -> list[FileRecord]:
    return [FileRecord(thread_key=THREAD.as_str(), slack_file_id=f"F{n}", name=n) for n in names]


@pytest.mark.parametrize(
    ("on_message", "named", "limit", "chosen", "left_out"),
    [
        ((), (), 3, ["a", "b", "c"], []),
        ((), (), 2, ["b", "c"], ["a"]),  # the newest win
        (("a",), (), 2, ["a", "c"], ["b"]),  # the message's own files first
        ((), ("A",), 2, ["a", "c"], ["b"]),  # then the files the question names (any case)
        (("b",), ("a",), 2, ["a", "b"], ["c"]),
        (("a", "b", "c"), (), 1, ["c"], ["a", "b"]),
    ],
)
def test_which_files_a_turn_uses_when_the_thread_has_too_many(
    on_message: tuple[str, ...],
    named: tuple[str, ...],
    limit: int,
    chosen: list[str],
    left_out: list[str],
) -> None:
    message = IncomingMessage(
        thread=THREAD,
        ts="2",
        user="U",
        text="q",
        files=tuple(SlackFile(id=f"F{n}", name=n) for n in on_message),
        named_files=named,
    )
    records, others = files_for_turn(_files("a", "b", "c"), message=message, limit=limit)
    assert [r.name for r in records] == chosen and others == left_out
