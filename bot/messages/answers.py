"""Words inside the answer itself: the captions of native tables."""

from __future__ import annotations

from bot.messages._lang import pick


def table_caption(lang: str, number: int) -> str:
    """The caption screen readers announce for the answer's ``number``-th table."""
    return pick(lang, f"Table {number}", f"표 {number}")
