"""Governance for one bot process: prices, per-channel settings, and what admission and the
turn ask of them (the facts a decision needs, a run's options, a finished turn's cost)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from bot.config import Settings
from bot.governance.access import AccessPolicy
from bot.governance.budgets import BudgetLimits, Periods, Spending
from bot.governance.channels import ChannelSettings
from bot.governance.pricing import Prices, container_minutes_for
from bot.types import IncomingMessage, RunOptions, TurnCost, Usage
from storage import Store
from storage.records import ChannelSetting, TurnRecord

__all__ = ["Facts", "Governance", "safety_identifier_for"]


@dataclass(frozen=True)
class Facts:
    """Everything admission's governance checks decide on, gathered before deciding."""

    policy: AccessPolicy
    channel_enabled: bool | None
    model: str
    model_priced: bool
    limits: BudgetLimits
    spending: Spending
    periods: Periods


def safety_identifier_for(*, team: str, user: str) -> str:
    """A stable hash of the asker for OpenAI's abuse monitoring: attributable by the
    organisation (which can hash its own ids) without sending a Slack id."""
    return hashlib.sha256(f"insightbot:{team}:{user}".encode()).hexdigest()


class Governance:
    def __init__(self, *, settings: Settings, store: Store, prices: Prices) -> None:
        self.settings = settings
        self.store = store
        self.prices = prices
        self.channels = ChannelSettings(store)

    @property
    def default_model(self) -> str:
        s = self.settings
        return (s.local_model or "") if s.engine == "local" else s.model

    def model_for(self, setting: ChannelSetting | None) -> str:
        """The model a channel's questions run on (its own applies to the OpenAI engine)."""
        if setting is not None and setting.model and self.settings.engine == "openai":
            return setting.model
        return self.default_model

    def limits_for(self, setting: ChannelSetting | None, *, channel_type: str) -> BudgetLimits:
        s = self.settings
        channel_daily = s.channel_daily_usd
        if setting is not None and setting.daily_usd is not None:
            channel_daily = setting.daily_usd
        if channel_type == "im":  # a DM is one person's: their own budget is the one
            channel_daily = None
        return BudgetLimits(
            user_daily=s.user_daily_usd, channel_daily=channel_daily, monthly=s.monthly_usd
        )

    async def facts_for(self, message: IncomingMessage, *, now: float | None = None) -> Facts:
        """What admission needs to decide on ``message``. Raises StorageError."""
        channel = message.thread.channel
        setting = await self.channels.get(channel)
        limits = self.limits_for(setting, channel_type=message.channel_type)
        periods = Periods.at(time.time() if now is None else now, self.settings.timezone)
        model = self.model_for(setting)
        spending = Spending()
        if limits.any:  # no budget, no queries on the acknowledgement's path
            spending = await self.spending(
                user=message.user, channel=channel, periods=periods, limits=limits
            )
        return Facts(
            policy=AccessPolicy.of(self.settings),
            channel_enabled=setting.enabled if setting is not None else None,
            model=model,
            model_priced=self.prices.knows(model) if limits.any else True,
            limits=limits,
            spending=spending,
            periods=periods,
        )

    async def spending(
        self, *, user: str, channel: str, periods: Periods, limits: BudgetLimits
    ) -> Spending:
        store = self.store
        user_today = channel_today = month = 0.0
        if limits.user_daily is not None:
            user_today = await store.spent_since(since=periods.day_start, user=user)
        if limits.channel_daily is not None:
            channel_today = await store.spent_since(since=periods.day_start, channel=channel)
        if limits.monthly is not None:
            month = await store.spent_since(since=periods.month_start)
        return Spending(user_today=user_today, channel_today=channel_today, month=month)

    async def run_options(self, message: IncomingMessage) -> RunOptions:
        """The run's model (the channel's own, if any) and whom the organisation's OpenAI
        dashboards attribute it to. Raises StorageError."""
        thread = message.thread
        setting = await self.channels.get(thread.channel)
        model = self.model_for(setting)
        return RunOptions(
            model=model if model != self.default_model else None,
            safety_identifier=safety_identifier_for(team=thread.team, user=message.user),
            metadata=(("slack_team", thread.team), ("slack_channel", thread.channel)),
        )

    async def turn_cost(
        self, *, turn: TurnRecord, usage: Usage, model: str | None, now: float | None = None
    ) -> TurnCost:
        """What an answered turn cost: its tokens on ``model`` (the configured one when the
        engine named none) and, for the OpenAI engine, an estimate of its sandbox time.
        Raises StorageError."""
        ended = time.time() if now is None else now
        model = model or self.default_model
        cost = TurnCost(model=model or None, token_usd=self.prices.token_cost(model, usage))
        if self.settings.engine != "openai":
            return cost
        thread = await self.store.get_thread(turn.thread_key)
        if thread is None or not thread.container_id:
            return cost
        created = await self.store.container_created_at(turn.thread_key) or turn.created_at
        last = await self.store.last_container_use(
            thread_key=turn.thread_key, container_id=thread.container_id, before_turn=turn.id
        )
        minutes = container_minutes_for(created_at=created, last_use=last, ended_at=ended)
        rate = self.prices.container_rate(thread.memory_limit)
        return TurnCost(
            model=cost.model,
            token_usd=cost.token_usd,
            container_id=thread.container_id,
            container_minutes=round(minutes, 2),
            container_usd=None if rate is None else round(minutes * rate, 6),
        )
