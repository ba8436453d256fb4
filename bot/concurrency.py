"""How many engine runs may go at once: at most ``INSIGHTBOT_MAX_CONCURRENT_RUNS``, and below
that as many as the engine's rate limits allow, learned as it goes (AIMD, like TCP's
congestion window): a rate-limit answer halves the limit (at most once per cool-down, so a
burst of refusals counts once), and every run the engine accepts adds ``1/limit``, about one
more run per round of runs, back up to the ceiling. An exhausted quota is not a rate limit:
waiting does not help it, so it never lowers the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["AdaptiveLimit", "RateSignals"]

COOL_DOWN_S = 5.0  # one decrease per this many seconds, whatever the number of refusals


class RateSignals(Protocol):
    """What an engine reports about its rate limits (the OpenAI engine does)."""

    def rate_limited(self) -> None:
        """The engine answered 429 ``rate_limit_exceeded`` (never for insufficient_quota)."""

    def accepted(self) -> None:
        """The engine accepted a new run."""


class AdaptiveLimit:
    """The current limit on engine runs, between ``floor`` and ``ceiling``."""

    def __init__(
        self,
        *,
        ceiling: int,
        floor: int = 1,
        decrease: float = 0.5,
        cool_down_s: float = COOL_DOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = ceiling
        self._floor = min(floor, ceiling)
        self._decrease = decrease
        self._cool_down_s = cool_down_s
        self._clock = clock
        self._window = float(ceiling)
        self._last_decrease: float | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def limit(self) -> int:
        return max(self._floor, int(self._window))

    def on_raise(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the limit goes up (waiting runs may start)."""
        self._listeners.append(listener)

    def rate_limited(self) -> None:
        now = self._clock()
        if self._last_decrease is not None and now - self._last_decrease < self._cool_down_s:
            return
        self._last_decrease = now
        self._window = max(float(self._floor), self._window * self._decrease)

    def accepted(self) -> None:
        before = self.limit
        self._window = min(float(self.ceiling), self._window + 1.0 / max(self._window, 1.0))
        if self.limit > before:
            for listener in self._listeners:
                listener()
