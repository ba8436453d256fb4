"""Admission: whether a new question may run, must wait, or is refused.

One step, called from intake before the message is stored: the question's length and the
person's fair-use limits today; access lists and budgets belong here too. The decision itself
is a pure function; the counts it needs live in ``UserLoads``, which the runner keeps up to
date (reading them costs no I/O, so the acknowledgement stays fast).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from enum import Enum

from bot import messages
from bot.config import Settings
from bot.errors import InsightbotError
from bot.services import Services
from bot.types import FailureCode, IncomingMessage

log = logging.getLogger(__name__)

NOTE_INTERVAL_S = 60.0  # at most one note of each kind per person per minute


class Verdict(Enum):
    RUN = "run"  # within every limit
    WAIT = "wait"  # taken, but waits for one of the person's running turns to end
    REFUSE = "refuse"  # stored as refused; nothing runs


# Why a question waits or is refused (also the stored ``error`` of a refused turn).
AT_RUNNING_LIMIT = "at_running_limit"
TOO_MANY_WAITING = FailureCode.TOO_MANY_WAITING.value
TOO_LONG = FailureCode.QUESTION_TOO_LONG.value


@dataclass(frozen=True)
class UserLoad:
    """One person's turns in this process: running (holding an engine slot) and waiting."""

    running: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class Limits:
    max_running: int  # 0: no limit
    max_waiting: int  # 0: no limit
    max_question_chars: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_running=settings.user_max_running,
            max_waiting=settings.user_max_waiting,
            max_question_chars=settings.max_question_chars,
        )


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    reason: str | None = None  # one of the constants above; None for RUN


def admission_for(*, question_chars: int, load: UserLoad, limits: Limits) -> Admission:
    """Decide on a new question from its length and its author's current load."""
    if question_chars > limits.max_question_chars:
        return Admission(Verdict.REFUSE, TOO_LONG)
    if limits.max_waiting and load.waiting >= limits.max_waiting:
        return Admission(Verdict.REFUSE, TOO_MANY_WAITING)
    # Waiting turns of the same person start before this one, so they count as ahead of it.
    if limits.max_running and load.running + load.waiting >= limits.max_running:
        return Admission(Verdict.WAIT, AT_RUNNING_LIMIT)
    return Admission(Verdict.RUN)


class UserLoads:
    """Per-person counts of running and waiting turns; the runner is their only writer."""

    def __init__(self) -> None:
        self._running: Counter[str] = Counter()
        self._waiting: Counter[str] = Counter()

    def of(self, user: str) -> UserLoad:
        return UserLoad(running=self._running[user], waiting=self._waiting[user])

    def running(self, user: str) -> int:
        return self._running[user]

    def add_waiting(self, user: str) -> None:
        self._waiting[user] += 1

    def drop_waiting(self, user: str) -> None:
        _decrement(self._waiting, user)

    def start(self, user: str) -> None:
        """A waiting turn of ``user`` took an engine slot."""
        _decrement(self._waiting, user)
        self._running[user] += 1

    def finish(self, user: str) -> None:
        _decrement(self._running, user)


def _decrement(counter: Counter[str], user: str) -> None:
    # Zero entries are removed so that memory follows active people, not everyone ever seen.
    counter[user] -= 1
    if counter[user] <= 0:
        del counter[user]


class NoteGate:
    """At most one note of each kind per person per ``interval_s``: a flood of questions
    must not become a flood of bot messages."""

    def __init__(self, interval_s: float = NOTE_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._last: dict[tuple[str, str], float] = {}

    def allow(self, *, user: str, kind: str, now: float) -> bool:
        if len(self._last) > 10_000:
            self._last = {k: t for k, t in self._last.items() if now - t < self._interval_s}
        last = self._last.get((user, kind))
        if last is not None and now - last < self._interval_s:
            return False
        self._last[(user, kind)] = now
        return True


async def admit(*, settings: Settings, loads: UserLoads, message: IncomingMessage) -> Admission:
    """The admission step for ``message``; an admitted message is counted as waiting at once.

    The decision and the count happen with no await in between, so concurrent deliveries of
    one person's messages see each other. The caller must hand an admitted message to the
    runner (``counted=True``) or give the count back with ``loads.drop_waiting``.
    """
    admission = admission_for(
        question_chars=_question_chars(message, settings.max_question_chars),
        load=loads.of(message.user),
        limits=Limits.of(settings),
    )
    if admission.verdict is not Verdict.REFUSE:
        loads.add_waiting(message.user)
    return admission


async def tell_admission(
    *, services: Services, gate: NoteGate, message: IncomingMessage, admission: Admission
) -> None:
    """Tell the person privately why their question waits or was refused (rate-limited).

    Never raises: a note that cannot be posted is logged.
    """
    if admission.reason is None:
        return
    if not gate.allow(user=message.user, kind=admission.reason, now=time.monotonic()):
        return
    text = note_for(admission, lang=messages.language_of(message.text), settings=services.settings)
    thread = message.thread
    try:
        await services.slack.post_ephemeral(
            channel=thread.channel, user=message.user, thread_ts=thread.thread_ts, text=text
        )
    except InsightbotError as error:
        log.warning("could not post an admission note: %s", error.detail)


def note_for(admission: Admission, *, lang: str, settings: Settings) -> str:
    if admission.reason == TOO_LONG:
        return messages.question_too_long(lang, settings.max_question_chars)
    if admission.reason == TOO_MANY_WAITING:
        return messages.too_many_waiting(lang, settings.user_max_waiting)
    return messages.waiting_for_own_runs(lang, settings.user_max_running)


def _question_chars(message: IncomingMessage, limit: int) -> int:
    # A message cut short at intake was longer than anything the limit allows.
    return max(len(message.text), limit + 1) if message.cut_short else len(message.text)
