"""A user's message as stored with its turn (JSON), so a restart or a retry can run it again."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict

from bot.types import IncomingMessage, SlackFile, ThreadKey

__all__ = ["message_from_json", "message_to_json", "new_turn_id"]


def message_to_json(message: IncomingMessage) -> str:
    return json.dumps(asdict(message), ensure_ascii=False)


def message_from_json(text: str) -> IncomingMessage:
    """Raises ValueError, TypeError or KeyError for a stored text that is not a message."""
    raw = json.loads(text)
    thread = ThreadKey(**raw.pop("thread"))
    files = tuple(SlackFile(**f) for f in raw.pop("files", ()))
    named = tuple(raw.pop("named_files", ()))
    return IncomingMessage(thread=thread, files=files, named_files=named, **raw)


def new_turn_id() -> str:
    return uuid.uuid4().hex[:16]
