"""Masking secrets by value: every secret setting's value is replaced wherever it appears.

Patterns alone miss a key of an unexpected shape (a proxy's key, a rotated token) echoed by an
upstream error, so the values themselves are registered once when the settings are read, and
every log line and every error message passes through ``redact``. Shape patterns stay as a
second guard for tokens that are not ours (a token pasted into a question, say).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

__all__ = ["MIN_SECRET_CHARS", "REDACTED", "redact", "register_secrets"]

REDACTED = "[redacted]"
# Shorter values would mask ordinary words; no real token or key is this short.
MIN_SECRET_CHARS = 6

_SECRET_SHAPES = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{6,}|Bearer\s+[A-Za-z0-9._-]+)"
)
_lock = threading.Lock()
_values: tuple[str, ...] = ()  # longest first, so a value containing another is masked whole


def register_secrets(values: Iterable[str]) -> None:
    """Add secret values to mask from now on, process-wide (idempotent)."""
    global _values
    fresh = {v for v in values if len(v) >= MIN_SECRET_CHARS}
    with _lock:
        _values = tuple(sorted(set(_values) | fresh, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret value and every token-shaped string masked."""
    for value in _values:
        if value in text:
            text = text.replace(value, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)
