"""Picking up, on start, the turns a previous process left unfinished.

- Stored but never started (received/queued, or running before the engine was asked for a
  run): queued again, in their original order.
- Running with an engine response: that response is followed from the stored cursor and its
  answer posted once, into the answer message already created (``resume_turn``).
- Running with a run requested but no response id stored: the run's outcome is unknown, so
  none is started again; the thread gets an apology with a Retry button.
- A response the engine no longer has: an apology in the thread with a Retry button.
"""

from __future__ import annotations

import json
import logging

from bot.intake import message_from_json
from bot.runner import TurnRunner
from bot.services import Services
from bot.turn import RUN_REQUESTED
from storage.records import FAILED, RUNNING, TurnRecord

log = logging.getLogger(__name__)


def needs_resume(turn: TurnRecord) -> bool:
    """Whether an engine run may exist for ``turn`` (so it must not simply run again)."""
    return turn.status == RUNNING and (
        turn.response_id is not None or turn.last_sequence == RUN_REQUESTED
    )


async def recover_unfinished_turns(*, services: Services, runner: TurnRunner) -> int:
    """Queue every unfinished turn again; returns how many were picked up."""
    count = 0
    for turn in await services.store.unfinished_turns():
        try:
            message = message_from_json(turn.message_json)
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            log.error("turn %s has an unreadable stored message; marking it failed", turn.id)
            await services.store.update_turn(turn.id, status=FAILED, error="unreadable")
            continue
        resume = needs_resume(turn)
        log.info(
            "%s turn %s after a restart (was %s)",
            "resuming" if resume else "running",
            turn.id,
            turn.status,
        )
        runner.submit(turn, message, resume=resume)
        count += 1
    return count
