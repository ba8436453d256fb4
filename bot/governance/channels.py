"""Per-channel settings as the running bot sees them: read from the store, kept for a while.

Admins change them in the App Home, operators with ``insightbot channels set``; both write the
same table, and a running bot reads it again at least every ``refresh_s`` seconds, so a change
takes effect within a minute without a restart (at once for changes made through this cache).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from storage import Store
from storage.records import ChannelSetting

__all__ = ["REFRESH_S", "ChannelSettings"]

REFRESH_S = 30.0


class ChannelSettings:
    def __init__(
        self,
        store: Store,
        *,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._clock = clock
        self._all: dict[str, ChannelSetting] = {}
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, channel: str) -> ChannelSetting | None:
        """The channel's own settings, or None when it has none. Raises StorageError."""
        return (await self.all()).get(channel)

    async def all(self) -> dict[str, ChannelSetting]:
        """Every channel's own settings, at most ``refresh_s`` old. Raises StorageError."""
        if self._fresh():
            return self._all
        async with self._lock:  # one read for a burst of questions
            if not self._fresh():
                self._all = await self._store.channel_settings()
                self._read_at = self._clock()
        return self._all

    async def change(self, channel: str, *, by: str | None, **changes: Any) -> ChannelSetting:
        """Store a change (see ``Store.set_channel_setting``) and see it at once."""
        stored = await self._store.set_channel_setting(channel, updated_by=by, **changes)
        self._all = {**self._all, channel: stored}
        return stored

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self._refresh_s
