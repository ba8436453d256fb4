"""Keeping the thread's "working" status line alive while a turn runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.slack.gateway import SlackGateway


class StatusKeeper:
    """Keeps the thread's status line alive while a turn works (Slack drops it after 2 min).

    ``async with StatusKeeper(...)``: sets the status on entry, refreshes it every
    ``refresh_s`` and clears it on exit, whatever happened inside. Never raises Slack errors.
    """

    def __init__(
        self,
        *,
        gateway: SlackGateway,
        channel: str,
        thread_ts: str,
        status: str,
        loading_messages: Sequence[str] = (),
        refresh_s: float = 90.0,
    ) -> None:
        self._gateway = gateway
        self._channel = channel
        self._thread_ts = thread_ts
        self._status = status
        self._loading_messages = tuple(loading_messages)
        self._refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None

    async def set(self, status: str) -> None:
        """Change the status text now; the refreshes repeat the new text."""
        self._status = status
        await self._show()

    async def _show(self) -> None:
        await self._gateway.set_status(
            channel=self._channel,
            thread_ts=self._thread_ts,
            status=self._status,
            loading_messages=self._loading_messages,
        )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            await self._show()

    async def __aenter__(self) -> StatusKeeper:
        await self._show()
        self._task = asyncio.create_task(self._refresh_forever(), name="status-refresh")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._task is not None:
                self._task.cancel()
                # wait() does not re-raise the task's CancelledError, so a cancellation of
                # the caller itself is not swallowed here.
                await asyncio.wait([self._task])
        finally:
            await self._gateway.clear_status(channel=self._channel, thread_ts=self._thread_ts)
