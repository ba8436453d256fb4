"""Whether a schedule may still run, and what its finished runs count as. Pure.

A schedule is checked at every run, not only when it was made: its owner must still be an
active person of this organisation, the channel must still be there, the owner must still be
in it, and the governance access rules must still let the owner ask there. The first fact that
fails, in that order, names why the schedule is paused (``PauseReason``, stored as the schedule's
``paused_reason``). Three failed runs in a row pause it too; a run that budgets refused is
not the schedule's fault and counts neither way.
"""

from __future__ import annotations

from enum import StrEnum

from bot.governance import Refusal
from bot.types import ChannelState, SlackPerson
from storage.records import CANCELLED, DONE, FAILED, REFUSED, RUN_ANSWERED, RUN_FAILED, RUN_REFUSED

__all__ = [
    "FAILURES_TO_PAUSE",
    "QUESTION_SHOWN_MAX",
    "PauseReason",
    "channel_pause",
    "channel_type_of",
    "governance_pause",
    "is_paused_for_failures",
    "is_schedule_channel",
    "membership_pause",
    "owner_pause",
    "run_result",
    "shown_question",
    "tells_channel",
]

# The catalogue's words say "three runs in a row": change both together.
FAILURES_TO_PAUSE = 3
QUESTION_SHOWN_MAX = 150  # a notice shows the question, not a page of it
_CHANNEL_TYPES = {"C": "channel", "G": "group"}


class PauseReason(StrEnum):
    OWNER_LEFT = "owner_left"  # deactivated, unknown to Slack, or from another organisation
    NOT_MEMBER = "not_member"  # no longer in the schedule's channel
    ARCHIVED = "archived"  # the channel was archived or deleted
    ACCESS_DENIED = "access_denied"  # the access lists or the channel's own switch
    FAILURES = "failures"  # FAILURES_TO_PAUSE failed runs in a row


def owner_pause(owner: SlackPerson) -> PauseReason | None:
    """Whether the owner is gone: a deactivated account, or one Slack no longer knows."""
    return None if owner.active and not owner.is_bot else PauseReason.OWNER_LEFT


def governance_pause(refusal: Refusal | None) -> PauseReason | None:
    """What the governance access rules (``access_refusal``, given the owner's own workspace)
    said of the owner in the schedule's channel: someone from another organisation counts as
    gone, anything else as access denied."""
    if refusal is None:
        return None
    return PauseReason.OWNER_LEFT if refusal is Refusal.EXTERNAL else PauseReason.ACCESS_DENIED


def channel_pause(state: ChannelState) -> PauseReason | None:
    return None if state is ChannelState.ACTIVE else PauseReason.ARCHIVED


def membership_pause(is_member: bool) -> PauseReason | None:
    return None if is_member else PauseReason.NOT_MEMBER


def tells_channel(reason: PauseReason) -> bool:
    """Whether the channel can be told: an archived or deleted one cannot be posted in."""
    return reason is not PauseReason.ARCHIVED


def run_result(turn_status: str | None) -> str | None:
    """What a scheduled run's turn counts as once it ended (an occurrence outcome), or None
    while it has not ended (or started no turn)."""
    if turn_status == DONE:
        return RUN_ANSWERED
    if turn_status in (FAILED, CANCELLED):
        return RUN_FAILED
    if turn_status == REFUSED:
        # Refused before it ran (a used-up budget): not the schedule's fault.
        return RUN_REFUSED
    return None


def is_paused_for_failures(failures_in_a_row: int) -> bool:
    return failures_in_a_row >= FAILURES_TO_PAUSE


def is_schedule_channel(channel: str) -> bool:
    """Whether schedules may live in ``channel``: public and private channels only."""
    return channel[:1] in _CHANNEL_TYPES


def channel_type_of(channel: str) -> str:
    """The conversation kind of a schedule's channel, as the access rules name it."""
    return _CHANNEL_TYPES.get(channel[:1], "channel")


def shown_question(question: str, limit: int = QUESTION_SHOWN_MAX) -> str:
    """The question on one line, cut at ``limit`` characters."""
    flat = " ".join(question.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
