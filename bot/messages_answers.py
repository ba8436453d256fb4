"""Sentences for native tables and charts, in the user's language (Korean or English).

Kept apart from bot/messages.py while that catalogue is being restructured; each function
takes the language first, like the catalogue's own, and folds into it unchanged.
"""

from __future__ import annotations


def _pick(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def table_caption(lang: str, number: int) -> str:
    """The caption screen readers announce for the answer's ``number``-th table."""
    return _pick(lang, f"Table {number}", f"표 {number}")
