"""The state types of one turn: what the steps share while answering, what the engine run
produced, and the Stop control shared with the button.

Stored progress is not here: it is the turn record in storage, written by the ledger
(bot/turn/ledger.py) only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.turn.ledger import TurnLedger
from bot.types import Artifact, ArtifactWithheld, Failed, Finished, IncomingMessage
from storage.records import TurnRecord

__all__ = ["AnswerOutcome", "TurnControl", "TurnState"]


@dataclass
class TurnControl:
    """Shared between a running turn and the Stop button."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stopped_by: str | None = None


@dataclass
class AnswerOutcome:
    """What the engine produced for one turn, gathered while following its events."""

    response_id: str | None = None
    sequence: int | None = None
    code: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    withheld: list[ArtifactWithheld] = field(default_factory=list)
    text_started: bool = False
    finished: Finished | None = None
    failed: Failed | None = None
    stopped_by: str | None = None
    timed_out: bool = False


@dataclass
class TurnState:
    """One turn on its way, shared by the steps that answer it."""

    services: Services
    turn: TurnRecord
    message: IncomingMessage
    control: TurnControl
    ledger: TurnLedger
    lang: str
    status_ts: str | None = None
    stream: AnswerStream | None = None
