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

from bot.message_json import message_from_json
from bot.runner import TurnRunner
from bot.services import Services
from bot.turn import TurnLedger, needs_resume
from bot.types import FailureCode

log = logging.getLogger(__name__)


async def recover_unfinished_turns(*, services: Services, runner: TurnRunner) -> int:
    """Queue every unfinished turn again; returns how many were picked up."""
    count = 0
    for turn in await services.store.unfinished_turns():
        try:
            message = message_from_json(turn.message_json)
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            log.error("turn %s has an unreadable stored message; marking it failed", turn.id)
            ledger = TurnLedger.of(services.store, turn)
            await ledger.failed(FailureCode.UNREADABLE, thread_answered=False)
            continue
        resume = needs_resume(turn)
        log.info(
            "%s turn %s after a restart (was %s)",
            "resuming" if resume else "running",
            turn.id,
            turn.status,
        )
        # A purge a restart interrupted may still hold the thread.
        runner.submit(turn, message, resume=resume, after_purge=True)
        count += 1
    return count
