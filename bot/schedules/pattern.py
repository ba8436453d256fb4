"""The file-name pattern a "newest file named like …" schedule starts with, from the name of a
file the question used: its dates, counters and versions become one ``*`` each, the rest of
the name and its extension stay. Pure.

``sales_2026-11-30.csv`` → ``sales_*.csv``; ``매출_20261130_v2.xlsx`` → ``매출_*.xlsx``;
``report (3).csv`` → ``report*.csv``. The pattern is a case-insensitive shell pattern
(bot/schedules/choice.py ``newest_matching``), so characters that mean something there
(``[``, ``]``, ``?``) become ``?``, which still matches the character itself.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_PATTERN_CHARS", "file_pattern"]

MAX_PATTERN_CHARS = 100
# Extensions that wrap another one (``data.csv.gz``): both are kept.
_WRAPPERS = frozenset({"gz", "bz2", "xz", "zip"})
# A counter in brackets with the space before it ("report (3)"), a version after a separator
# ("_v2"), or any run of digits (dates, times, sequence numbers).
_NUMERIC = re.compile(r" ?[(\[]\d+[)\]]|(?<=[-_. ])[vV]\d+|\d+")
# Wildcards joined only by separators ("*-*-*", "*_*") are one date or one stamp: one "*".
_JOINED = re.compile(r"\*(?:[-_. ]*\*)+")
_SPECIAL = re.compile(r"[\[\]?/\\]")


def _split_extension(name: str) -> tuple[str, str]:
    """(stem, extension with its dot); ``data.csv.gz`` keeps ``.csv.gz`` together."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext:
        return name, ""
    if ext.lower() in _WRAPPERS:
        inner_stem, inner_dot, inner = stem.rpartition(".")
        if inner_dot and inner_stem and inner and not inner.isdigit():
            return inner_stem, f".{inner}.{ext}"
    return stem, f".{ext}"


def file_pattern(name: str) -> str:
    """The pattern for files named like ``name`` (at most MAX_PATTERN_CHARS characters);
    ``*`` for a name with nothing to keep."""
    name = unicodedata.normalize("NFC", name.strip())
    stem, ext = _split_extension(name)
    stem = _JOINED.sub("*", _NUMERIC.sub("*", stem))
    stem, ext = _SPECIAL.sub("?", stem), _SPECIAL.sub("?", ext)
    if len(stem) + len(ext) > MAX_PATTERN_CHARS:
        ext = ext[: MAX_PATTERN_CHARS // 4]
        stem = stem[: MAX_PATTERN_CHARS - len(ext) - 1].rstrip("*") + "*"
    pattern = f"{stem}{ext}"
    return pattern if pattern.strip("*. ") else "*"
