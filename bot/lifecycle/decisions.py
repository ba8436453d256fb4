"""The data lifecycle's pure choices: what "forget" looks like, when data is old enough to go,
when a cached upload has expired at the engine, and how long a refused deletion waits."""

from __future__ import annotations

import re

from bot.engines.objects import Deletion, ObjectKind, upload_lifetime_s

DAY_S = 24 * 3600.0
SWEEP_INTERVAL_S = 3600.0  # the retention sweep runs at start and then hourly
PURGE_LEASE_S = 300.0  # a claim outlives its process by at most this long
RETRY_BACKOFF_S = 300.0  # a refused deletion is tried again after 5 min, 10, 20, …
MAX_RETRY_BACKOFF_S = 12 * 3600.0

# "forget", "forget this thread" (any case, a trailing full stop or "!" allowed), "잊어줘",
# "이 스레드 잊어줘". The bot's own mention is already gone from the text.
_FORGET = re.compile(
    r"\s*(?:forget(?:\s+this\s+thread)?|(?:이\s*스레드\s*)?잊어\s*줘)\s*[.!。]?\s*",
    re.IGNORECASE,
)


def is_forget_request(text: str) -> bool:
    """Whether a message to the bot asks it to forget its thread (the whole text, nothing
    more: "forget the outliers and plot again" is a question)."""
    return len(text) <= 40 and _FORGET.fullmatch(text) is not None


def retention_cutoff(now: float, days: int) -> float | None:
    """Threads idle since before this time are purged; None when retention is off (0)."""
    return None if days <= 0 else now - days * DAY_S


def upload_is_stale(uploaded_at: float | None, *, now: float, retention_days: int) -> bool:
    """Whether a cached upload may have expired (or soon will) at the engine, so that the file
    must go up again. Uploads from before uploads expired (no time kept) never do."""
    life = upload_lifetime_s(retention_days)
    if uploaded_at is None or life is None:
        return False
    margin = min(DAY_S, life / 4)  # a turn must not meet its file expiring mid-run
    return now >= uploaded_at + life - margin


def counts_by_kind(deletions: list[Deletion], *, done: bool) -> dict[str, int]:
    """How many deletions are done (or not), per object kind."""
    counts = {kind.value: 0 for kind in ObjectKind}
    for deletion in deletions:
        if deletion.done == done:
            counts[deletion.obj.kind.value] += 1
    return counts
