"""Governance: who may use the bot and where, what each turn costs, budgets, and the per-
channel settings admins change at run time.

The package front. Admission (bot/admission.py) decides with ``access_refusal`` and
``exhausted_budget`` on the ``Facts`` that ``Governance.facts_for`` gathers; the turn asks
``Governance`` for its run options and, once answered, its cost (recorded by the ledger).
"""

from bot.governance.access import (
    AccessPolicy,
    Refusal,
    access_refusal,
    is_external,
    usable_shares,
)
from bot.governance.budgets import (
    Budget,
    BudgetLimits,
    Exhausted,
    Periods,
    Spending,
    exhausted_budget,
)
from bot.governance.channels import ChannelSettings
from bot.governance.pricing import (
    CONTAINER_PER_MINUTE,
    Prices,
    TokenPrice,
    container_minutes_for,
    load_price_file,
)
from bot.governance.service import Facts, Governance, safety_identifier_for

__all__ = [
    "CONTAINER_PER_MINUTE",
    "AccessPolicy",
    "Budget",
    "BudgetLimits",
    "ChannelSettings",
    "Exhausted",
    "Facts",
    "Governance",
    "Periods",
    "Prices",
    "Refusal",
    "Spending",
    "TokenPrice",
    "access_refusal",
    "container_minutes_for",
    "exhausted_budget",
    "is_external",
    "load_price_file",
    "safety_identifier_for",
    "usable_shares",
]
