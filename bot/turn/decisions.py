"""Pure decisions inside a turn, each a plain function tested as a table
(tests/test_turn_decisions.py): which files a turn uses, whether a stored turn must be resumed
and from where, how long a stream may stay silent, and how a turn ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot import messages
from bot.errors import InsightbotError
from bot.turn.state import AnswerOutcome
from bot.types import FailureCode, IncomingMessage
from storage.records import RUNNING, ChannelFileRecord, FileRecord, TurnRecord

__all__ = [
    "OPERATOR_FAILURES",
    "Ending",
    "EndingKind",
    "choose_channel_files",
    "ending_for",
    "failure_code_of",
    "files_for_turn",
    "needs_resume",
    "offers_repeat",
    "resume_cursor",
    "silence_limit_s",
]

SILENCE_MAX_S = 60.0
# Failures the person running the bot must act on (quota, key): logged as errors.
OPERATOR_FAILURES = frozenset({FailureCode.INSUFFICIENT_QUOTA, FailureCode.AUTH})


# ---------------------------------------------------------------- files


def choose_channel_files(
    candidates: Sequence[ChannelFileRecord], *, named: Sequence[str]
) -> list[ChannelFileRecord]:
    """The channel files to use: the ones the user named, else the newest share's data files."""
    if named:
        wanted = {n.casefold() for n in named}
        return [c for c in candidates if c.name.casefold() in wanted]
    if not candidates:
        return []
    newest_ts = max(c.shared_ts for c in candidates)
    return [c for c in candidates if c.shared_ts == newest_ts]


def files_for_turn(
    records: Sequence[FileRecord], *, message: IncomingMessage, limit: int
) -> tuple[list[FileRecord], list[str]]:
    """Which of a thread's files (oldest first) a turn uses, and the names of the others.

    Files on the triggering message come first, then files the question names, then the
    newest by share time; the chosen keep their oldest-first order.
    """
    if len(records) <= limit:
        return list(records), []
    on_message = {f.id for f in message.files}
    named = {n.casefold() for n in message.named_files}

    def rank(item: tuple[int, FileRecord]) -> tuple[int, int]:
        index, record = item
        if record.slack_file_id in on_message:
            group = 0
        elif record.name.casefold() in named:
            group = 1
        else:
            group = 2
        return group, -index  # within a group, the newest (latest in the list) first

    ranked = sorted(enumerate(records), key=rank)
    kept = {index for index, _ in ranked[:limit]}
    chosen = [r for i, r in enumerate(records) if i in kept]
    left_out = [r.name for i, r in enumerate(records) if i not in kept]
    return chosen, left_out


# ---------------------------------------------------------------- resuming


def needs_resume(turn: TurnRecord) -> bool:
    """Whether an engine run may exist for a stored turn (so it must not simply run again)."""
    return turn.status == RUNNING and (turn.response_id is not None or turn.run_requested)


def resume_cursor(turn: TurnRecord) -> int | None:
    """The last stream event handled before the restart (None: from the start)."""
    return turn.last_sequence


def silence_limit_s(run_timeout_s: float) -> float:
    """How long a run's stream may stay quiet before it is reopened from its cursor."""
    return min(SILENCE_MAX_S, run_timeout_s / 3)


# ---------------------------------------------------------------- the end


class EndingKind(Enum):
    ANSWERED = "answered"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True)
class Ending:
    """How a turn ends: ``message`` is told in the thread for a failure, with a Retry button
    when ``retryable``; ``operator_must_act`` asks for an ERROR log line."""

    kind: EndingKind
    code: FailureCode | None = None
    message: str = ""
    retryable: bool = False
    operator_must_act: bool = False


def ending_for(
    outcome: AnswerOutcome, *, lang: str, run_timeout_s: float, resumed: bool = False
) -> Ending:
    """How the turn whose run produced ``outcome`` ends (``resumed``: after a restart)."""
    if outcome.finished is not None:
        return Ending(EndingKind.ANSWERED)
    if outcome.stopped_by is not None:
        return Ending(EndingKind.STOPPED, FailureCode.STOPPED)
    if outcome.timed_out:
        return Ending(
            EndingKind.FAILED,
            FailureCode.TIMEOUT,
            messages.timed_out(lang, run_timeout_s),
            retryable=True,
        )
    failed = outcome.failed
    if failed is None:
        return Ending(
            EndingKind.FAILED, FailureCode.NO_OUTCOME, messages.unexpected(lang), retryable=True
        )
    if resumed and failed.code is FailureCode.NOT_RESUMABLE:
        return Ending(EndingKind.FAILED, failed.code, messages.interrupted(lang), retryable=True)
    return Ending(
        EndingKind.FAILED,
        failed.code,
        messages.run_failed(lang, failed.code, failed.reason, failed.detail),
        retryable=failed.retryable,
        operator_must_act=failed.code in OPERATOR_FAILURES,
    )


def failure_code_of(error: BaseException) -> FailureCode:
    """The code recorded for an error raised inside a turn's steps (our errors name theirs)."""
    if isinstance(error, InsightbotError):
        return error.failure_code
    return FailureCode.CRASHED


# ---------------------------------------------------------------- the answer's buttons

# Public and private channels: a schedule posts into a channel its members share. Not DMs,
# the Messages tab or group DMs.
REPEATABLE_KINDS = frozenset({"channel", "group"})


def offers_repeat(message: IncomingMessage) -> bool:
    """Whether the answer to ``message`` has a "Repeat…" button. A scheduled run's answer has
    none: repeating it would only copy the schedule that ran it."""
    return message.channel_type in REPEATABLE_KINDS and not message.scheduled
