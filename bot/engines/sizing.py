"""How big a sandbox a thread's data needs, and which files fit in it.

Memory tiers (OpenAI container ``memory_limit``: 1g, 4g, 16g, 64g) are chosen from the total
size of the thread's files on disk:

* pandas holds a CSV in roughly 5-10 times its size on disk (object columns of short strings
  are the expensive part), and a ``groupby``/``merge`` briefly doubles that, so we budget
  ``WORKING_SET_FACTOR`` (7) times the data;
* compressed formats (xlsx, xls, parquet) expand several times more when read, so their bytes
  count ``COMPRESSED_WEIGHT`` (3) times;
* the interpreter itself (Python, pandas, matplotlib, fonts) takes about ``RUNTIME_BYTES``
  (300 MB) before any data is read.

That gives these thresholds for plain CSV data:

    ==========  ==================
    tier        total data on disk
    ==========  ==================
    1g          up to ~100 MB
    4g          up to ~540 MB
    16g         up to ~2.2 GB
    64g         above
    ==========  ==================

The tier is capped by ``INSIGHTBOT_CONTAINER_MEMORY_MAX``: larger tiers cost more per session.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import MEMORY_TIERS
from bot.types import UploadedFile

MB = 1024 * 1024
WORKING_SET_FACTOR = 7
COMPRESSED_WEIGHT = 3
RUNTIME_BYTES = 300 * MB
_COMPRESSED_KINDS = frozenset({"xlsx", "xls", "parquet"})
_TIER_BYTES = {"1g": 1024 * MB, "4g": 4096 * MB, "16g": 16384 * MB, "64g": 65536 * MB}


def tier_rank(tier: str | None) -> int:
    """Position of ``tier`` among the memory tiers (-1 when unknown or None)."""
    return MEMORY_TIERS.index(tier) if tier in MEMORY_TIERS else -1


def data_weight(files: Sequence[UploadedFile]) -> int:
    """Bytes of data the sandbox must hold, with compressed formats weighted up."""
    return sum(
        f.size * (COMPRESSED_WEIGHT if f.facts.kind in _COMPRESSED_KINDS else 1) for f in files
    )


def memory_tier_for(files: Sequence[UploadedFile], *, maximum: str) -> str:
    """The smallest memory tier that holds ``files`` comfortably, at most ``maximum``."""
    needed = RUNTIME_BYTES + WORKING_SET_FACTOR * data_weight(files)
    cap = max(tier_rank(maximum), 0)
    for tier in MEMORY_TIERS[: cap + 1]:
        if _TIER_BYTES[tier] >= needed:
            return tier
    return MEMORY_TIERS[cap]


def tier_is_enough(current: str | None, needed: str) -> bool:
    """Whether a container of tier ``current`` is at least ``needed``."""
    return tier_rank(current) >= tier_rank(needed)


def files_that_fit(
    files: Sequence[UploadedFile], *, limit: int
) -> tuple[list[UploadedFile], tuple[str, ...]]:
    """Split ``files`` (oldest first) into the newest ``limit`` kept, and the names left out.

    The kept files stay in their original order; duplicates by engine file id count once.
    """
    unique: dict[str, UploadedFile] = {}
    for f in files:
        unique.pop(f.file_id, None)
        unique[f.file_id] = f
    ordered = list(unique.values())
    if len(ordered) <= limit:
        return ordered, ()
    cut = len(ordered) - limit
    return ordered[cut:], tuple(f.name for f in ordered[:cut])
