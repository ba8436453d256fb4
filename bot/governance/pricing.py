"""What a turn costs: tokens priced by genai-prices, sandbox time by our own small table.

Token prices come from genai-prices' bundled data only (its network updates are never used,
so a price never changes under a running bot). A match counts only when the id it found is the
model id itself or the model id without a date suffix: the library also maps ids to relatives
(``gpt-5.6`` to ``gpt-5.6-sol``), and a relative's price is a guess we do not make. A model
with no price is unknown (logged once), never free. ``INSIGHTBOT_PRICES`` names a JSON file
whose entries override or add prices: ``{"my-model": {"input": 2.0, "cached_input": 0.2,
"output": 8.0}}`` in dollars per million tokens, ``{"container:1g": {"per_minute": 0.0015}}``.

Sandbox time is an estimate: OpenAI bills a container per minute (at least 5) from its
creation until it idles out 20 minutes after its last use. A turn is charged from the
container's creation (plus the idle tail) or, when the thread used the same container before,
from that earlier turn's end (whose tail this turn's tail replaces), at least 5 minutes.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.types import Usage

__all__ = [
    "CONTAINER_PER_MINUTE",
    "IDLE_TAIL_MINUTES",
    "MIN_CONTAINER_MINUTES",
    "Prices",
    "TokenPrice",
    "container_minutes_for",
    "load_price_file",
]

log = logging.getLogger(__name__)

# US dollars per sandbox minute by memory tier: OpenAI's $0.03, $0.12, $0.48 and $1.92 per
# 20-minute session, billed per minute since June 2026.
CONTAINER_PER_MINUTE: Mapping[str, float] = {
    "1g": 0.0015,
    "4g": 0.006,
    "16g": 0.024,
    "64g": 0.096,
}
IDLE_TAIL_MINUTES = 20.0  # a container lives this long after its last use
MIN_CONTAINER_MINUTES = 5.0  # the least OpenAI bills for a container
_PER_MILLION = 1_000_000
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
_CONTAINER_KEY = "container:"


@dataclass(frozen=True)
class TokenPrice:
    """US dollars per million tokens; cached input is part of input, priced at its own rate."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return (
            (usage.input_tokens - cached) * self.input
            + cached * cached_rate
            + usage.output_tokens * self.output
        ) / _PER_MILLION


def load_price_file(path: Path) -> tuple[dict[str, TokenPrice], dict[str, float]]:
    """The token prices and container rates in an INSIGHTBOT_PRICES file.

    Raises ConfigError naming the file and the entry when it cannot be read or is malformed.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"INSIGHTBOT_PRICES: cannot read {path}: {error.strerror}.") from None
    except ValueError as error:
        raise ConfigError(f"INSIGHTBOT_PRICES: {path} is not valid JSON ({error}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"INSIGHTBOT_PRICES: {path} must hold a JSON object of prices.")
    tokens: dict[str, TokenPrice] = {}
    containers: dict[str, float] = {}
    for name, entry in raw.items():
        where = f"INSIGHTBOT_PRICES: {path}, entry {name!r}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be an object of prices.")
        if name.startswith(_CONTAINER_KEY):
            containers[name.removeprefix(_CONTAINER_KEY).lower()] = _amount(
                entry, "per_minute", where
            )
            continue
        cached = _amount(entry, "cached_input", where) if "cached_input" in entry else None
        tokens[name.lower()] = TokenPrice(
            input=_amount(entry, "input", where),
            output=_amount(entry, "output", where),
            cached_input=cached,
        )
    return tokens, containers


def _amount(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} needs {key!r}: a number of US dollars.")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{where}: {key!r} must be 0 or more, got {value!r}.")
    return float(value)


class Prices:
    """Token prices (bundled, with overrides) and sandbox rates for one bot process."""

    def __init__(
        self,
        *,
        overrides: Mapping[str, TokenPrice] | None = None,
        container_rates: Mapping[str, float] | None = None,
        provider_id: str | None = "openai",
        provider_api_url: str | None = None,
    ) -> None:
        self._overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self._container_rates = {**CONTAINER_PER_MINUTE, **(container_rates or {})}
        self._provider_id = provider_id
        self._provider_api_url = provider_api_url
        self._warned: set[str] = set()
        self._known: dict[str, bool] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> Prices:
        """Prices for the configured engine, with the INSIGHTBOT_PRICES file's entries.

        Raises ConfigError when that file cannot be read.
        """
        tokens, containers = (
            load_price_file(settings.prices_path) if settings.prices_path else ({}, {})
        )
        local = settings.engine == "local"
        return cls(
            overrides=tokens,
            container_rates=containers,
            provider_id=None if local else "openai",
            provider_api_url=settings.local_base_url if local else None,
        )

    def knows(self, model: str) -> bool:
        """Whether ``model`` has a price (logs nothing)."""
        if model not in self._known:
            self._known[model] = (
                self._cost(model, Usage(input_tokens=1, output_tokens=1)) is not None
            )
        return self._known[model]

    def token_cost(self, model: str, usage: Usage) -> float | None:
        """US dollars for ``usage`` on ``model``; None (with one warning per model and
        process) when its price is unknown."""
        cost = self._cost(model, usage)
        if cost is None and model not in self._warned:
            self._warned.add(model)
            log.warning(
                "no known price for model %r: its turns are recorded with an unknown cost; "
                "add it to an INSIGHTBOT_PRICES file",
                model,
            )
        return cost

    def container_rate(self, tier: str | None) -> float | None:
        """US dollars per sandbox minute for a memory tier (None: unknown tier)."""
        return self._container_rates.get((tier or "1g").lower())

    def _cost(self, model: str, usage: Usage) -> float | None:
        key = model.strip().lower()
        if key in self._overrides:
            return self._overrides[key].cost(usage)
        return _bundled_cost(
            key, usage, provider_id=self._provider_id, provider_api_url=self._provider_api_url
        )


def _bundled_cost(
    model: str, usage: Usage, *, provider_id: str | None, provider_api_url: str | None
) -> float | None:
    """genai-prices' bundled price of ``usage`` on exactly ``model`` (or it without a date
    suffix); the library applies the model's own tiers (long contexts cost more)."""
    from genai_prices import Usage as PriceUsage

    counted = PriceUsage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=min(usage.cached_input_tokens, usage.input_tokens),
        output_tokens=usage.output_tokens,
    )
    try:
        priced = _calc(counted, model, provider_id=provider_id, provider_api_url=provider_api_url)
    except (LookupError, ValueError):
        return None
    if priced.model.id.lower() not in {model, _DATE_SUFFIX.sub("", model)}:
        return None
    return float(priced.total_price)


def _calc(usage: Any, model: str, *, provider_id: str | None, provider_api_url: str | None) -> Any:
    from genai_prices import calc_price

    if provider_id is not None:
        return calc_price(usage, model, provider_id=provider_id)
    if provider_api_url:
        try:
            return calc_price(usage, model, provider_api_url=provider_api_url)
        except LookupError:
            pass
    return calc_price(usage, model)


def container_minutes_for(*, created_at: float, last_use: float | None, ended_at: float) -> float:
    """Estimated billed sandbox minutes to charge one turn (see the module docstring)."""
    if last_use is not None and last_use >= created_at:
        minutes = (ended_at - last_use) / 60
    else:
        minutes = (ended_at - created_at) / 60 + IDLE_TAIL_MINUTES
    return max(MIN_CONTAINER_MINUTES, minutes)
