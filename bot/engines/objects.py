"""What an engine creates on our behalf, and what became of deleting it.

Every object the bot creates at the engine (uploaded files, containers, conversations,
responses) is recorded in an inventory the moment it exists (``Inventory.record``), with the
thread and turn it belongs to. Retention and "forget" delete only objects of that inventory,
through ``Engine.forget``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ObjectKind(StrEnum):
    FILE = "file"
    CONTAINER = "container"
    CONVERSATION = "conversation"
    RESPONSE = "response"


OBJECT_KINDS: tuple[ObjectKind, ...] = tuple(ObjectKind)


@dataclass(frozen=True)
class Owner:
    """Who an engine object is created for: a thread (its key) and, when known, a turn."""

    thread_key: str
    turn_id: str | None = None


@dataclass(frozen=True)
class EngineObject:
    kind: ObjectKind
    object_id: str
    thread_key: str = ""  # "" when the creator named no thread
    turn_id: str | None = None
    created_at: float = 0.0


class Outcome(StrEnum):
    DELETED = "deleted"  # the engine deleted it now
    GONE = "gone"  # it was already gone (404): done all the same
    PENDING = "pending"  # not deleted (5xx, 429, a timeout, a refusal): try again later


@dataclass(frozen=True)
class Deletion:
    """What happened when an engine was asked to delete ``obj``. Only DELETED and GONE are
    done; ``detail`` says why a PENDING one is not (for the logs), ``retry_after_s`` what the
    engine asked us to wait."""

    obj: EngineObject
    outcome: Outcome
    detail: str = ""
    retry_after_s: float | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not Outcome.PENDING


# OpenAI's Files API takes an expiry of 1 hour to 30 days after the upload.
MIN_UPLOAD_LIFETIME_S, MAX_UPLOAD_LIFETIME_S = 3600, 30 * 24 * 3600


def upload_lifetime_s(retention_days: int) -> int | None:
    """How long an upload lives at the engine (``expires_after``): the retention period,
    within what the API accepts; None (until deleted) when retention is off."""
    if retention_days <= 0:
        return None
    return max(MIN_UPLOAD_LIFETIME_S, min(retention_days * 24 * 3600, MAX_UPLOAD_LIFETIME_S))


class Inventory(Protocol):
    """Where engines record what they create (``storage.Store`` is one)."""

    async def record_engine_object(self, obj: EngineObject) -> None: ...


class Note(Protocol):
    """Records one object just created (bound to an inventory and an owner)."""

    async def __call__(self, kind: ObjectKind, object_id: str) -> None: ...


def note_for(
    inventory: Inventory | None, owner: Owner | None, *, clock: Callable[[], float] = time.time
) -> Note:
    """A Note recording into ``inventory`` under ``owner``, stamped with ``clock()``. Without
    an inventory it records nothing (tests and `doctor` build engines without one)."""

    async def note(kind: ObjectKind, object_id: str) -> None:
        if inventory is None:
            return
        await inventory.record_engine_object(
            EngineObject(
                kind=kind,
                object_id=object_id,
                thread_key=owner.thread_key if owner else "",
                turn_id=owner.turn_id if owner else None,
                created_at=clock(),
            )
        )

    return note
