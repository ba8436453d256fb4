"""At most N kernels at once, one per thread, started on demand.

Beyond N, the least recently used idle kernel is shut down (its thread keeps its files and
gets a fresh kernel next time); when every kernel is busy, the request waits. A kernel idle for
longer than ``idle_s`` is shut down too, so the next cell starts fresh with the files back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.engines.local.kernel import CellResult, Kernel, KernelConfig
from bot.engines.local.sandbox import MOUNT_DATA

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    kernel: Kernel
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    busy: bool = False
    last_used: float = 0.0


class KernelPool:
    def __init__(
        self,
        *,
        root: Path,
        config: KernelConfig,
        max_kernels: int,
        idle_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = root
        self._config = config
        self._max = max(1, max_kernels)
        self._idle_s = idle_s
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._changed = asyncio.Condition()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the task that shuts idle kernels down (stopped by ``aclose``)."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="kernel-sweeper")

    def kernel_of(self, thread: str) -> Kernel | None:
        slot = self._slots.get(thread)
        return slot.kernel if slot else None

    def is_warm(self, thread: str) -> bool:
        """Whether ``thread``'s next cell runs in a kernel that still holds its variables."""
        slot = self._slots.get(thread)
        return (
            slot is not None
            and slot.kernel.running
            and self._clock() - slot.last_used <= self._idle_s
        )

    def data_path(self, thread: str) -> str:
        """Where ``thread``'s cells see its files (/mnt/data in the sandbox)."""
        if self._config.tools is not None:
            return MOUNT_DATA
        return str(self._home(thread) / "data")

    async def interrupt(self, thread: str) -> None:
        """Interrupt the cell ``thread``'s kernel is running (the cell ends with
        KeyboardInterrupt and the variables stay); nothing when it runs none."""
        slot = self._slots.get(thread)
        if slot is not None and slot.busy and slot.kernel.running:
            await slot.kernel.interrupt()

    async def stop(self, thread: str) -> None:
        """Shut ``thread``'s kernel down, keeping its files (the next cell starts afresh)."""
        slot = self._slots.get(thread)
        if slot is None:
            return
        async with slot.lock:
            await slot.kernel.stop()
        async with self._changed:
            self._changed.notify_all()

    async def execute(
        self, thread: str, code: str, *, files: Mapping[str, Path] | None = None
    ) -> CellResult:
        """Run ``code`` in ``thread``'s kernel after putting ``files`` in /mnt/data.

        Waits while every kernel is busy. Raises RuntimeError when a kernel cannot start.
        """
        slot = self._slots.get(thread)
        if slot is None:
            slot = self._slots[thread] = _Slot(Kernel(home=self._home(thread), config=self._config))
        async with slot.lock:
            await self._reserve(slot)
            try:
                if slot.kernel.running and self._clock() - slot.last_used > self._idle_s:
                    await slot.kernel.stop()
                slot.kernel.put_files(files or {})
                return await slot.kernel.execute(code)
            finally:
                slot.busy = False
                slot.last_used = self._clock()
                async with self._changed:
                    self._changed.notify_all()

    async def sweep(self) -> None:
        """Shut down kernels idle for longer than ``idle_s``."""
        now = self._clock()
        for slot in list(self._slots.values()):
            if slot.kernel.running and not slot.busy and now - slot.last_used > self._idle_s:
                async with slot.lock:
                    await slot.kernel.stop()
        async with self._changed:
            self._changed.notify_all()

    async def forget(self, thread: str) -> None:
        """Shut down ``thread``'s kernel and delete its files (also those a kernel of an
        earlier process, or of another process on the same folder, left behind)."""
        slot = self._slots.pop(thread, None)
        if slot is None:
            await asyncio.to_thread(shutil.rmtree, self._home(thread), ignore_errors=True)
            return
        async with slot.lock:
            await slot.kernel.remove()
        async with self._changed:
            self._changed.notify_all()

    async def aclose(self) -> None:
        """Shut every kernel down (files stay until ``forget``)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for slot in list(self._slots.values()):
            await slot.kernel.stop()

    async def _reserve(self, slot: _Slot) -> None:
        async with self._changed:
            while True:
                if slot.kernel.running or self._active() < self._max:
                    slot.busy = True
                    return
                victim = self._least_recently_used_idle()
                if victim is not None:
                    log.info("local kernel limit reached; shutting down the oldest idle one")
                    await victim.kernel.stop()
                    continue
                await self._changed.wait()

    def _active(self) -> int:
        return sum(1 for s in self._slots.values() if s.busy or s.kernel.running)

    def _least_recently_used_idle(self) -> _Slot | None:
        idle = [s for s in self._slots.values() if s.kernel.running and not s.busy]
        return min(idle, key=lambda s: s.last_used) if idle else None

    def _home(self, thread: str) -> Path:
        return self._root / hashlib.sha256(thread.encode()).hexdigest()[:24]

    async def _sweep_forever(self) -> None:
        interval = max(1.0, min(60.0, self._idle_s / 2))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping idle local kernels failed")
