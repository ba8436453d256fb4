"""Recurring analyses: the pure rules of when a schedule runs (``timing``), and whether a
message asks for a channel's schedules (``requests``)."""

from bot.schedules.requests import is_schedules_request
from bot.schedules.timing import (
    WEEKDAYS,
    Due,
    Frequency,
    Recurrence,
    ScheduleRuleError,
    due,
    latest_occurrence,
    next_occurrence,
    occurrence_on,
    recurrence,
)

__all__ = [
    "WEEKDAYS",
    "Due",
    "Frequency",
    "Recurrence",
    "ScheduleRuleError",
    "due",
    "is_schedules_request",
    "latest_occurrence",
    "next_occurrence",
    "occurrence_on",
    "recurrence",
]
