"""Seed items for a replacement conversation: a short summary of the earlier turns (pure).

A conversation whose sandbox is gone can refuse to continue; the engine then starts a new
one holding the earlier questions and (shortened) answers, so follow-ups still make sense.
The Conversations API takes at most 20 items per create call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.types import PastTurn

MAX_ITEMS = 20
MAX_TURNS = (MAX_ITEMS - 1) // 2
MAX_TOTAL_CHARS = 8000
MAX_ANSWER_CHARS = 1200
MAX_QUESTION_CHARS = 600

NOTE = (
    "This conversation continues an earlier one in the same Slack thread. Its sandbox "
    "expired, so the files were loaded again (their paths are in the instructions) and "
    "variables from before are gone. The earlier questions and answers follow, shortened."
)


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_items(history: Sequence[PastTurn]) -> list[dict[str, Any]]:
    """Input items (a note, then question/answer message pairs) for ``conversations.create``.

    Keeps the newest turns that fit in ``MAX_TOTAL_CHARS`` and ``MAX_TURNS``, oldest first.
    """
    kept: list[tuple[str, str]] = []
    budget = MAX_TOTAL_CHARS
    for turn in reversed(history):
        if len(kept) >= MAX_TURNS:
            break
        question = shorten(turn.question, MAX_QUESTION_CHARS)
        answer = shorten(turn.answer, MAX_ANSWER_CHARS) or "(no answer)"
        cost = len(question) + len(answer)
        if cost > budget:
            break
        budget -= cost
        kept.append((question, answer))
    if not kept:
        return []
    items: list[dict[str, Any]] = [{"type": "message", "role": "developer", "content": NOTE}]
    for question, answer in reversed(kept):
        items.append({"type": "message", "role": "user", "content": question})
        items.append({"type": "message", "role": "assistant", "content": answer})
    return items
