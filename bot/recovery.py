"""Picking up, on start, the turns a previous process left unfinished.

- Stored but never started (received/queued, or running with no engine response yet): run again.
- Running with an engine response: follow that response from the stored cursor and post its
  answer once, into the answer message already created when there is one.
- A response the engine no longer has: an apology in the thread with a Retry button.
"""

from __future__ import annotations

import logging

from bot.intake import message_from_json
from bot.runner import TurnRunner
from bot.services import Services
from bot.turn import resume_turn
from storage.records import QUEUED, RECEIVED, RUNNING

log = logging.getLogger(__name__)


async def recover_unfinished_turns(*, services: Services, runner: TurnRunner) -> int:
    """Queue every unfinished turn again; returns how many were picked up."""
    count = 0
    for turn in await services.store.unfinished_turns():
        try:
            message = message_from_json(turn.message_json)
        except (ValueError, TypeError, KeyError):
            log.error("turn %s has an unreadable stored message; marking it failed", turn.id)
            await services.store.update_turn(turn.id, status="failed", error="unreadable")
            continue
        if turn.status == RUNNING and turn.response_id:
            log.info("resuming turn %s from response %s", turn.id, turn.response_id)
            runner.spawn(resume_turn(services=services, turn=turn, message=message))
        elif turn.status in (RECEIVED, QUEUED, RUNNING):
            log.info("running turn %s again after a restart", turn.id)
            runner.submit(turn, message)
        count += 1
    return count
