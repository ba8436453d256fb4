"""Admission: whether a new question may run, must wait, or is refused.

One step, called from intake before the message is stored, deciding in this order: who may
ask where (access lists, external people, DMs, the channel's own switch), the question's
length, whether the model has a price while budgets are set, the budgets, then the person's
fair-use limits. The decision itself is a pure function (``admission_for``); the facts it
needs are gathered first: the per-channel settings (cached) and, only while a budget is set,
what was spent (the store); the counts live in ``UserLoads``, which the runner keeps up to
date.
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
from bot.governance import Exhausted, Facts, Governance, Refusal, access_refusal, exhausted_budget
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
NOT_ALLOWED = FailureCode.NOT_ALLOWED.value
EXTERNAL_USER = FailureCode.EXTERNAL_USER.value
BUDGET_EXHAUSTED = FailureCode.BUDGET_EXHAUSTED.value
UNKNOWN_PRICE = FailureCode.UNKNOWN_PRICE.value


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
    # What the note says: the access refusal, the used-up budget, or the unpriced model.
    detail: Refusal | Exhausted | str | None = None

    @property
    def refused_by_access(self) -> bool:
        """Refused for who or where: nothing of the message is kept (files neither)."""
        return isinstance(self.detail, Refusal)


@dataclass(frozen=True)
class Asker:
    """Who asks, and where."""

    user: str
    user_team: str | None
    home_teams: frozenset[str]
    channel: str
    channel_type: str

    @classmethod
    def of(cls, message: IncomingMessage) -> Asker:
        return cls(
            user=message.user,
            user_team=message.user_team,
            home_teams=message.home_teams,
            channel=message.thread.channel,
            channel_type=message.channel_type,
        )


def admission_for(
    *,
    question_chars: int,
    load: UserLoad,
    limits: Limits,
    asker: Asker | None = None,
    facts: Facts | None = None,
    scheduled: bool = False,
) -> Admission:
    """Decide on a new question: who asks where (with ``asker`` and ``facts``), its length,
    prices and budgets (with ``facts``), then its author's current load. A ``scheduled`` run
    counts toward its owner's limits but is never refused by them: it waits."""
    if asker is not None and facts is not None:
        refusal = access_refusal(
            policy=facts.policy,
            user=asker.user,
            user_team=asker.user_team,
            home_teams=asker.home_teams,
            channel=asker.channel,
            channel_type=asker.channel_type,
            channel_enabled=facts.channel_enabled,
        )
        if refusal is not None:
            return Admission(Verdict.REFUSE, refusal.code.value, refusal)
    if question_chars > limits.max_question_chars:
        return Admission(Verdict.REFUSE, TOO_LONG)
    if facts is not None and facts.limits.any:
        if not facts.model_priced:
            return Admission(Verdict.REFUSE, UNKNOWN_PRICE, facts.model)
        exhausted = exhausted_budget(
            limits=facts.limits, spending=facts.spending, periods=facts.periods
        )
        if exhausted is not None:
            return Admission(Verdict.REFUSE, BUDGET_EXHAUSTED, exhausted)
    if limits.max_waiting and load.waiting >= limits.max_waiting and not scheduled:
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


async def admit(
    *,
    settings: Settings,
    loads: UserLoads,
    message: IncomingMessage,
    governance: Governance | None = None,
    scheduled: bool = False,
) -> Admission:
    """The admission step for ``message``; an admitted message is counted as waiting at once.

    The governance facts are gathered first (they may await the store); the decision and
    the count then happen with no await in between, so concurrent deliveries of one person's
    messages see each other. The caller must hand an admitted message to the runner
    (``counted=True``) or give the count back with ``loads.drop_waiting``. Raises
    StorageError when the facts cannot be read.
    """
    facts = await governance.facts_for(message) if governance is not None else None
    admission = admission_for(
        question_chars=_question_chars(message, settings.max_question_chars),
        load=loads.of(message.user),
        limits=Limits.of(settings),
        asker=Asker.of(message),
        facts=facts,
        scheduled=scheduled,
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
    lang = messages.language_of(message.text)
    thread = message.thread
    try:
        # Private notes are rate-limited; the thread's own line is not, so that no refused
        # question (a scheduled run's above all) is left without a word in its thread.
        if gate.allow(user=message.user, kind=admission.reason, now=time.monotonic()):
            text = note_for(admission, lang=lang, settings=services.settings)
            await services.slack.post_ephemeral(
                channel=thread.channel, user=message.user, thread_ts=thread.thread_ts, text=text
            )
        if admission.reason == BUDGET_EXHAUSTED:
            # The thread learns that nothing ran, not what anyone spent.
            await services.slack.post_message(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=messages.budget_used_up_in_thread(lang),
            )
    except InsightbotError as error:
        log.warning("could not post an admission note: %s", error.detail)


def note_for(admission: Admission, *, lang: str, settings: Settings) -> str:
    detail = admission.detail
    if isinstance(detail, Refusal):
        if detail is Refusal.USER:
            return messages.not_enabled_for_you(lang, settings.admins)
        if detail is Refusal.EXTERNAL:
            return messages.external_not_allowed(lang, settings.admins)
        return messages.not_enabled_here(lang, settings.admins)
    if isinstance(detail, Exhausted):
        return messages.budget_used_up(
            lang,
            budget=detail.budget.value,
            spent=detail.spent,
            limit=detail.limit,
            renews_at=detail.renews_at,
        )
    if admission.reason == UNKNOWN_PRICE:
        return messages.unknown_price(lang, str(detail))
    if admission.reason == TOO_LONG:
        return messages.question_too_long(lang, settings.max_question_chars)
    if admission.reason == TOO_MANY_WAITING:
        return messages.too_many_waiting(lang, settings.user_max_waiting)
    return messages.waiting_for_own_runs(lang, settings.user_max_running)


def _question_chars(message: IncomingMessage, limit: int) -> int:
    # A message cut short at intake was longer than anything the limit allows.
    return max(len(message.text), limit + 1) if message.cut_short else len(message.text)
