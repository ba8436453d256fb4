"""Budgets: whether a daily or monthly budget is already used up (pure).

Days and months begin at midnight in ``INSIGHTBOT_TIMEZONE``. A budget is used up when what
was spent in its period reaches it; turns already running when that happens finish, so a
budget can be overshot by what they cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

__all__ = ["Budget", "BudgetLimits", "Exhausted", "Periods", "Spending", "exhausted_budget"]


class Budget(Enum):
    USER_DAILY = "user_daily"
    CHANNEL_DAILY = "channel_daily"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class BudgetLimits:
    """US dollars per period; None: no budget."""

    user_daily: float | None = None
    channel_daily: float | None = None
    monthly: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.user_daily, self.channel_daily, self.monthly))


@dataclass(frozen=True)
class Spending:
    user_today: float = 0.0
    channel_today: float = 0.0
    month: float = 0.0


@dataclass(frozen=True)
class Periods:
    """Where today and this month begin and end, as epoch seconds (for the store's queries)
    and as local times (for telling people when a budget renews)."""

    day_start: float
    day_end: datetime
    month_start: float
    month_end: datetime

    @classmethod
    def at(cls, now: float, timezone: str) -> Periods:
        zone = ZoneInfo(timezone)
        local = datetime.fromtimestamp(now, zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # Aware arithmetic keeps wall time: the next midnight, whatever daylight saving does.
        next_day = day + timedelta(days=1)
        month = day.replace(day=1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        return cls(
            day_start=day.timestamp(),
            day_end=next_day,
            month_start=month.timestamp(),
            month_end=next_month,
        )


@dataclass(frozen=True)
class Exhausted:
    budget: Budget
    limit: float
    spent: float
    renews_at: datetime


def exhausted_budget(
    *, limits: BudgetLimits, spending: Spending, periods: Periods
) -> Exhausted | None:
    """The first used-up budget (the person's, the channel's, then the workspace's), or None."""
    checks = (
        (Budget.USER_DAILY, limits.user_daily, spending.user_today, periods.day_end),
        (Budget.CHANNEL_DAILY, limits.channel_daily, spending.channel_today, periods.day_end),
        (Budget.MONTHLY, limits.monthly, spending.month, periods.month_end),
    )
    for budget, limit, spent, renews in checks:
        if limit is not None and spent >= limit:
            return Exhausted(budget=budget, limit=limit, spent=spent, renews_at=renews)
    return None
