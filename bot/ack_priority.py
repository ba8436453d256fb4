"""Acknowledgements first: Slack wants each event acknowledged within 3 seconds, so a turn
about to start lets the events being taken in right now go first (a turn can wait a moment)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress

__all__ = ["AckPriority"]

INTAKE_PRIORITY_S = 0.5  # longest a starting turn waits for acknowledgements in flight


class AckPriority:
    """Counts events being taken in; turns wait (briefly) until there are none."""

    def __init__(self, *, max_wait_s: float = INTAKE_PRIORITY_S) -> None:
        self._max_wait_s = max_wait_s
        self._in_flight = 0
        self._none_in_flight = asyncio.Event()
        self._none_in_flight.set()

    @contextmanager
    def taking_in(self) -> Iterator[None]:
        """Mark an event being taken in and acknowledged."""
        self._in_flight += 1
        self._none_in_flight.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._none_in_flight.set()

    async def let_acks_go_first(self) -> None:
        """Wait until no event is being taken in, at most ``max_wait_s``: a steady stream of
        events delays a turn's start, never starves it."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._none_in_flight.wait(), self._max_wait_s)
