"""Recurring analyses: the pure rules of when a schedule runs (``timing``)."""

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
    "latest_occurrence",
    "next_occurrence",
    "occurrence_on",
    "recurrence",
]
