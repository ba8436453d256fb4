"""The limits one kernel runs under, and which limit a failed cell broke (pure).

Processes are limited with RLIMIT_NPROC, which the kernel counts per host uid across every
kernel (threads count too), so the number is sized for all kernels at once:
``PROCESSES_PER_KERNEL`` times the most kernels. A runaway cell in one thread can therefore
use up the shared allowance until it is stopped; it cannot reach the bot, whose uid differs.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

PROCESSES_PER_KERNEL = 64
CPU_BACKSTOP_S = 3600  # lifetime CPU of one kernel; the wall-time limit per cell comes first
TMP_BYTES = 256 * 1024 * 1024

# The limit names a CellResult carries (``messages.local_limit`` in bot/messages/engine.py words them for people).
TIME, MEMORY, PROCESSES, FILE_SIZE, DISK, CPU, CRASH = (
    "time",
    "memory",
    "processes",
    "file_size",
    "disk",
    "cpu",
    "crash",
)


@dataclass(frozen=True)
class KernelLimits:
    cell_timeout_s: float = 120.0
    memory_bytes: int = 2048 * 1024 * 1024
    processes: int = PROCESSES_PER_KERNEL
    cpu_seconds: int = CPU_BACKSTOP_S
    file_bytes: int = 1024 * 1024 * 1024
    disk_bytes: int = 1024 * 1024 * 1024
    tmp_bytes: int = TMP_BYTES


def default_max_kernels(*, memory_bytes: int, machine_bytes: int) -> int:
    """Half the machine's memory divided by one kernel's, at least 1."""
    return max(1, machine_bytes // 2 // max(1, memory_bytes))


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def limit_from_error(ename: str, evalue: str) -> str | None:
    """The limit an exception raised inside a cell points to, if any."""
    if ename == "MemoryError":
        return MEMORY
    if ename == "BlockingIOError" or "can't start new thread" in evalue:
        return PROCESSES
    if f"[Errno {errno.EAGAIN}]" in evalue and ("fork" in evalue or "spawn" in evalue):
        return PROCESSES
    if f"[Errno {errno.EFBIG}]" in evalue:
        return FILE_SIZE
    return None


def limit_from_exit(returncode: int | None) -> str:
    """The limit a kernel that died during a cell most likely broke (bwrap passes the
    child's status on as 128 + signal)."""
    if returncode in (-24, 128 + 24):  # SIGXCPU
        return CPU
    if returncode in (-25, 128 + 25):  # SIGXFSZ
        return FILE_SIZE
    return CRASH


def trimmed(text: str, *, limit: int = 8000) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n… [{cut} characters cut] …\n{text[-tail:]}"


def directory_bytes(root: Path) -> int:
    """Total size of the regular files under ``root`` (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            total += stat.st_size
    return total
