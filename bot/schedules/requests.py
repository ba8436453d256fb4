"""Whether a message to the bot asks for the channel's schedules rather than an analysis."""

from __future__ import annotations

import re

# "schedules", "예약 목록" or "예약목록", any case, with punctuation or spaces around it
# ("Schedules?", "`schedules`", "예약 목록!"). The bot's own mention is already gone from the
# text. Linear: the punctuation runs cannot overlap the words between them.
_SCHEDULES = re.compile(r"[\W_]*(?:schedules|예약\s*목록)[\W_]*", re.IGNORECASE)
_MAX_CHARS = 40


def is_schedules_request(text: str) -> bool:
    """Whether a message to the bot asks for this channel's schedules (the whole text,
    nothing more: "schedules by region over time" is a question)."""
    return len(text) <= _MAX_CHARS and _SCHEDULES.fullmatch(text) is not None
