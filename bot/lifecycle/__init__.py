"""The data lifecycle: retention, purging a thread, and `insightbot cleanup`.

The package front. ``decisions`` holds the pure choices, ``purge`` purges one thread (claim,
delete its engine objects, erase its content), ``sweep`` runs retention at start and hourly,
``cleanup`` is the operator's command. "Forget this thread" from Slack is bot/forget.py.
"""

from bot.lifecycle.cleanup import CleanupSummary, run_cleanup
from bot.lifecycle.decisions import is_forget_request, retention_cutoff, upload_is_stale
from bot.lifecycle.purge import (
    PurgeReport,
    delete_objects,
    discard_thread,
    new_holder,
    purge_thread,
    retry_due_deletions,
)
from bot.lifecycle.sweep import Clock, RetentionSweeper, SweepReport, SystemClock

__all__ = [
    "CleanupSummary",
    "Clock",
    "PurgeReport",
    "RetentionSweeper",
    "SweepReport",
    "SystemClock",
    "delete_objects",
    "discard_thread",
    "is_forget_request",
    "new_holder",
    "purge_thread",
    "retention_cutoff",
    "retry_due_deletions",
    "run_cleanup",
    "upload_is_stale",
]
