"""Finding a sandbox's processes from the host, to know when a stopped one is really gone.

Killing the outer bwrap tears its pid namespaces down asynchronously; until every process in
them is reaped it still counts against the shared per-uid process limit, and a restart right
away could fail with "can't start new thread". So ``stop`` waits for the namespaces to empty.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

_PROC = Path("/proc")


def _parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The command name is in parentheses and may hold spaces: split after the last ')'.
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(root: int) -> set[int]:
    """Every live process below ``root``."""
    parents = {}
    for entry in os.listdir(_PROC):
        if entry.isdigit():
            parent = _parent_of(entry)
            if parent is not None:
                parents[int(entry)] = parent
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def pid_namespaces(pids: set[int]) -> set[str]:
    """The pid namespaces ``pids`` live in, other than our own."""
    own = os.readlink("/proc/self/ns/pid")
    spaces = set()
    for pid in pids:
        try:
            space = os.readlink(f"/proc/{pid}/ns/pid")
        except OSError:
            continue
        if space != own:
            spaces.add(space)
    return spaces


def _alive_in(spaces: set[str]) -> bool:
    for entry in os.listdir(_PROC):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") in spaces:
                    return True
            except OSError:
                continue
    return False


async def wait_until_gone(spaces: set[str], *, seconds: float = 10.0) -> bool:
    """Wait until no process is left in ``spaces``; False if some still are after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while spaces:
        alive: bool = await asyncio.to_thread(_alive_in, spaces)
        if not alive:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
