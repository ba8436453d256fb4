"""What the machine is, and how much memory and CPU a process uses (read from /proc, Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024


def machine_line() -> str:
    """One line naming the cores, memory, CPU model, OS and Python."""
    cores = os.cpu_count() or 0
    mem_kb = _meminfo().get("MemTotal", 0)
    return (
        f"{cores} cores ({_cpu_model()}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {sys.version.split()[0]}"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            out[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def _status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` now."""
    return _status(pid).get("VmRSS", 0)


def peak_rss_bytes(pid: int) -> int:
    """Highest resident set size of ``pid`` since it started or since ``reset_peak_rss``."""
    return _status(pid).get("VmHWM", 0)


def reset_peak_rss(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark of ``pid`` to its current RSS; False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of ``pid``'s main thread (the event loop) and of all its other threads."""
    out = {"main thread": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "main thread" if task.name == str(pid) else "other threads"
        out[name] += (int(fields[11]) + int(fields[12])) / _TICKS
    return out


@dataclass
class RssSampler:
    """Samples a process's RSS every ``interval_s`` in the background (a cross-check of VmHWM)."""

    pid: int
    interval_s: float = 0.02
    samples: list[tuple[float, int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._take()

    def _take(self) -> None:
        with contextlib.suppress(OSError):  # the process may have just exited
            self.samples.append((time.time(), rss_bytes(self.pid)))

    async def _run(self) -> None:
        while True:
            self._take()
            await asyncio.sleep(self.interval_s)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)
