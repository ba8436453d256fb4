"""Starting and talking to the helper processes: the app under test and the load generator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


@dataclass
class Delivery:
    """One event POST as the load generator saw it."""

    sent_at: float  # wall clock, comparable with the fakes' records
    seconds: float  # until the whole HTTP answer was read
    status: int


async def _spawn(
    args: list[str], *, env: dict[str, str], stderr_path: Path
) -> asyncio.subprocess.Process:
    stderr = stderr_path.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=64 * 1024 * 1024,
        )
    finally:
        stderr.close()


async def _stop(process: asyncio.subprocess.Process, *, timeout_s: float = 30.0) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


class AppProcess:
    """``python -m benchmarks.app_process bot|bare`` with the given environment."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.events_url = f"http://127.0.0.1:{port}/slack/events"

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls, kind: str, *, env: dict[str, str], log_path: Path, profile_path: Path | None = None
    ) -> AppProcess:
        full_env = dict(env)
        if profile_path is not None:
            full_env["BENCH_PROFILE"] = str(profile_path)
        process = await _spawn(
            ["-m", "benchmarks.app_process", kind], env=full_env, stderr_path=log_path
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
            port = int(json.loads(line)["port"])
        except (TimeoutError, ValueError, KeyError) as exc:
            await _stop(process)
            raise RuntimeError(f"the {kind} app did not start:\n{_tail(log_path)}") from exc
        return cls(process, port, log_path)

    async def wait_idle(self, timeout_s: float = 600.0) -> None:
        """Return once the app has finished every turn it started."""
        url = f"http://127.0.0.1:{self.port}/_bench/idle"
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            resp.raise_for_status()
            await resp.read()

    async def handled(self) -> list[float]:
        """Seconds each event POST spent inside the server since the last call."""
        url = f"http://127.0.0.1:{self.port}/_bench/handled"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            resp.raise_for_status()
            return [float(s) for s in (await resp.json())["seconds"]]

    async def stop(self) -> None:
        await _stop(self.process)

    def errors_logged(self) -> list[str]:
        """Log lines at ERROR level (a crashed task, a failed turn)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if '"level": "ERROR"' in line or "Traceback" in line]


class LoadGenerator:
    """``python -m benchmarks.loadgen``: fires bursts of signed deliveries."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *, log_path: Path) -> LoadGenerator:
        env = dict(os.environ)
        return cls(await _spawn(["-m", "benchmarks.loadgen"], env=env, stderr_path=log_path))

    @property
    def pid(self) -> int:
        return self.process.pid

    async def burst(
        self, url: str, requests: list[dict[str, Any]], *, spacing_s: float = 0.0
    ) -> list[Delivery]:
        """POST every request at once (or ``spacing_s`` apart); return what each one took."""
        assert self.process.stdin is not None and self.process.stdout is not None
        plan = {"url": url, "requests": requests, "spacing_s": spacing_s}
        self.process.stdin.write(json.dumps(plan).encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited")
        return [Delivery(r[0], r[1], int(r[2])) for r in json.loads(line)["results"]]

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            await _stop(self.process)
