"""One turn: a question in a Slack thread, answered by the engine and posted back there.

The package front: the rest of the bot starts turns (``run_turn``, ``resume_turn``), stops
them (``TurnControl``), and stores and advances them only through the ledger
(``TurnLedger`` and the record builders). Inside, ``script`` holds the steps in order,
``state`` their types, ``ledger`` the only writer of a turn's progress, ``decisions`` the
pure choices, and ``files``, ``session``, ``follow``, ``answer``, ``end`` one step each.
"""

from bot.turn.decisions import needs_resume
from bot.turn.ledger import TurnLedger, received_turn, refused_turn, retry_attempt
from bot.turn.script import resume_turn, run_turn
from bot.turn.session import prepare_thread_session, session_of, thread_history
from bot.turn.state import TurnControl

__all__ = [
    "TurnControl",
    "TurnLedger",
    "needs_resume",
    "prepare_thread_session",
    "received_turn",
    "refused_turn",
    "resume_turn",
    "retry_attempt",
    "run_turn",
    "session_of",
    "thread_history",
]
