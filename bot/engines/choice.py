"""Choosing the engine from settings: ``INSIGHTBOT_ENGINE`` is ``openai`` or ``local``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.concurrency import RateSignals
from bot.config import Settings
from bot.engines.base import Engine
from bot.engines.objects import Inventory
from bot.errors import ConfigError


class HistoryStore(Protocol):
    """Where the local engine keeps conversations (``storage.Store`` is one)."""

    async def local_history(self, conversation_id: str) -> list[list[dict[str, Any]]]: ...

    async def save_local_turn(
        self, conversation_id: str, turn_id: str, messages: Sequence[dict[str, Any]]
    ) -> None: ...

    async def forget_local_history(self, conversation_id: str) -> int: ...


async def open_engine(
    settings: Settings,
    *,
    history: HistoryStore | None = None,
    rate: RateSignals | None = None,
    inventory: Inventory | None = None,
) -> Engine:
    """The engine ``settings`` choose, ready to use; close it with ``aclose()``.

    ``history`` keeps the local engine's conversations (in memory when None); ``inventory``
    records every object the engine creates (nothing is recorded when None). Raises
    ConfigError (one line) when the chosen engine cannot run: a missing key or model, no
    ``local`` extra, no working sandbox, or a model server without tool calling.
    """
    if settings.engine == "local":
        try:
            from bot.engines.local import MemoryHistory, open_local_engine
        except ImportError as error:
            raise ConfigError(
                f"INSIGHTBOT_ENGINE=local needs the local extra ({error.name} is missing): "
                "pip install 'insightbot[local]'."
            ) from error
        return await open_local_engine(
            settings, history=history or MemoryHistory(), inventory=inventory
        )
    from bot.engines.openai import build_engine

    settings.require("openai_api_key")
    return build_engine(settings, rate=rate, inventory=inventory)
