"""One thread's Jupyter kernel: started in its sandbox, fed the thread's files, run cell by cell.

The kernel talks to us over jupyter's ``ipc`` transport (unix sockets in a per-kernel
directory): the sandbox has no network, so the TCP transport could not reach it. A cell that
breaks a limit is stopped and the kernel restarted with the thread's files back in /mnt/data;
only this kernel's process group is ever signalled.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import write_connection_file

from bot.engines.local.limits import (
    DISK,
    TIME,
    KernelLimits,
    directory_bytes,
    limit_from_error,
    limit_from_exit,
)
from bot.engines.local.procs import descendants, pid_namespaces, wait_until_gone
from bot.engines.local.sandbox import (
    FONT_INSIDE,
    MOUNT_DATA,
    SandboxSpec,
    Tools,
    kernel_environment,
    python_paths,
    sandbox_argv,
)

log = logging.getLogger(__name__)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_START_TIMEOUT_S = 60.0

# Registers the Hangul font as matplotlib's first sans-serif choice, so Korean titles, labels
# and legends render; the minus sign stays ASCII because NanumGothic has no U+2212.
_SETUP = """
import matplotlib as _m
from matplotlib import font_manager as _fm
_fm.fontManager.addfont({font!r})
_m.rcParams["font.family"] = "sans-serif"
_m.rcParams["font.sans-serif"] = ["NanumGothic", *_m.rcParams["font.sans-serif"]]
_m.rcParams["axes.unicode_minus"] = False
del _m, _fm
"""


@dataclass(frozen=True)
class KernelConfig:
    limits: KernelLimits
    uid: int
    gid: int
    tools: Tools | None  # None: INSIGHTBOT_LOCAL_SANDBOX=none (unconfined)
    as_root: bool
    font: Path


@dataclass(frozen=True)
class CellResult:
    """What one cell did. ``limit`` names the limit it broke (then the kernel was restarted)."""

    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    error: str | None = None
    files: tuple[str, ...] = ()
    images: tuple[Path, ...] = ()
    limit: str | None = None
    state_reset: bool = False


@dataclass
class _Collected:
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    value: str | None = None
    error: str | None = None
    ename: str = ""
    evalue: str = ""
    images: list[Path] = field(default_factory=list)


class Kernel:
    """The kernel of one thread. Not safe for concurrent use: the pool runs one cell at a time."""

    def __init__(self, *, home: Path, config: KernelConfig) -> None:
        self.home = home
        self.data_dir = home / "data"
        self.shown_dir = home / "shown"
        self._config = config
        self._inputs: dict[str, Path] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._client: AsyncKernelClient | None = None
        self._ipc_dir: Path | None = None
        self._shown = 0
        self._started = False

    @property
    def data_path(self) -> str:
        """Where cells see the thread's files."""
        return MOUNT_DATA if self._config.tools else str(self.data_dir)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def put_files(self, files: Mapping[str, Path]) -> None:
        """Copy ``files`` (name in /mnt/data → host file) in and remember them for restarts."""
        for name, source in files.items():
            if "/" in name or name in ("", ".", ".."):
                raise ValueError(f"not a plain file name: {name!r}")
            self._inputs[name] = source
            self._copy_in(name, source)

    async def start(self) -> None:
        """Start a fresh kernel over the thread's input files (outputs of earlier cells go).

        Raises RuntimeError when the kernel does not come up within a minute.
        """
        await self.stop()
        self._reset_data()
        self._ipc_dir = Path(tempfile.mkdtemp(prefix="ibk-"))
        self._own(self._ipc_dir)
        connection, info = write_connection_file(
            str(self._ipc_dir / "connection.json"),
            ip=str(self._ipc_dir / "s"),
            transport="ipc",
            key=secrets.token_hex(16).encode(),
        )
        self._own(Path(connection))
        self._process = self._spawn(connection)
        client = AsyncKernelClient()
        client.load_connection_info(info)
        client.start_channels()
        self._client = client
        await self._wait_ready()
        setup = _SETUP.format(font=FONT_INSIDE if self._config.tools else str(self._config.font))
        await self._run(setup, silent=True, seconds=_START_TIMEOUT_S)
        self._started = True

    async def stop(self) -> None:
        """Kill the kernel's whole process group; idempotent."""
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        if self._process is not None:
            spaces = pid_namespaces(descendants(self._process.pid))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            await asyncio.to_thread(self._process.wait)
            self._process = None
            if not await wait_until_gone(spaces):
                log.warning("processes of a stopped local kernel are still exiting")
        if self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None

    async def remove(self) -> None:
        """Stop the kernel and delete every file of this thread."""
        await self.stop()
        self._inputs.clear()
        shutil.rmtree(self.home, ignore_errors=True)

    async def execute(self, code: str) -> CellResult:
        """Run one cell; on a broken limit, restart with the files back (``limit`` says which)."""
        state_reset = self._started and not self.running
        if not self.running:
            await self.start()
        before = _snapshot(self.data_dir)
        got, limit = await self._run(code, silent=False, seconds=self._config.limits.cell_timeout_s)
        if limit is None and got.ename:
            limit = limit_from_error(got.ename, got.evalue)
        if limit is None and directory_bytes(self.data_dir) > self._config.limits.disk_bytes:
            limit = DISK
        files: tuple[str, ...] = ()
        if limit is None:
            after = _snapshot(self.data_dir)
            files = tuple(sorted(n for n, stamp in after.items() if before.get(n) != stamp))
        else:
            log.warning("local kernel broke the %s limit; restarting", limit)
            await self.start()
        return CellResult(
            stdout="".join(got.stdout),
            stderr="".join(got.stderr),
            value=got.value,
            error=got.error,
            files=files,
            images=tuple(got.images),
            limit=limit,
            state_reset=state_reset,
        )

    # -- internals ---------------------------------------------------------------------

    def _spawn(self, connection: str) -> subprocess.Popen[bytes]:
        python = str(Path(sys.prefix) / "bin" / "python")
        command = [python, "-m", "ipykernel_launcher", "-f", connection]
        command.append("--HistoryManager.enabled=False")
        config = self._config
        if config.tools is None:
            log.warning("INSIGHTBOT_LOCAL_SANDBOX=none: analysis code runs unconfined")
            env = kernel_environment(data_path=str(self.data_dir))
            env.update(HOME=str(self.home), MPLCONFIGDIR=str(self.home / "mpl"))
            argv, cwd = command, self.data_dir
        else:
            spec = SandboxSpec(
                data_dir=self.data_dir,
                ipc_dir=self._ipc_dir or self.home,
                readable=python_paths(),
                font=config.font,
                uid=config.uid,
                gid=config.gid,
                limits=config.limits,
            )
            argv = sandbox_argv(spec, tools=config.tools, command=command, as_root=config.as_root)
            env, cwd = {}, self.home
        with open(self.home / "kernel.log", "ab") as out:
            return subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    async def _wait_ready(self) -> None:
        assert self._client is not None
        deadline = asyncio.get_running_loop().time() + _START_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            if not self.running:
                break
            self._client.kernel_info()
            with contextlib.suppress(queue.Empty, TimeoutError):
                reply = await self._client.get_shell_msg(timeout=1.0)
                if reply["msg_type"] == "kernel_info_reply":
                    return
        tail = (self.home / "kernel.log").read_text(errors="replace")[-500:]
        await self.stop()
        raise RuntimeError(f"the local kernel did not start: {tail.strip()}")

    async def _run(
        self, code: str, *, silent: bool, seconds: float
    ) -> tuple[_Collected, str | None]:
        """Run ``code`` and collect its output; the limit broken by time or death, if any."""
        assert self._client is not None
        got = _Collected()
        msg_id = self._client.execute(code, silent=silent, store_history=not silent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if not self.running:
                return got, limit_from_exit(self._process.poll() if self._process else None)
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._interrupt()
                return got, TIME
            try:
                message = await self._client.get_iopub_msg(timeout=min(remaining, 0.25))
            except (queue.Empty, TimeoutError):
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if self._collect(message, got):
                return got, None

    def _collect(self, message: dict[str, Any], got: _Collected) -> bool:
        """Add one iopub message to ``got``; True when the cell is done."""
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            (got.stdout if content.get("name") == "stdout" else got.stderr).append(content["text"])
        elif kind in ("execute_result", "display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                got.images.append(self._save_image(data["image/png"]))
            elif kind == "execute_result":
                got.value = str(data.get("text/plain", ""))
        elif kind == "error":
            got.ename, got.evalue = str(content.get("ename", "")), str(content.get("evalue", ""))
            trace = _ANSI.sub("", "\n".join(content.get("traceback", [])))
            got.error = trace or f"{got.ename}: {got.evalue}"
        elif kind == "status" and content.get("execution_state") == "idle":
            return True
        return False

    async def interrupt(self) -> None:
        """Interrupt the running cell (Stop); the kernel and its variables stay."""
        await self._interrupt()

    async def _interrupt(self) -> None:
        """Ask the kernel to interrupt the cell (the caller restarts it right after)."""
        if self._client is None:
            return
        request = self._client.session.msg("interrupt_request", {})
        self._client.control_channel.send(request)
        with contextlib.suppress(queue.Empty, TimeoutError):
            await self._client.get_control_msg(timeout=2.0)

    def _save_image(self, encoded: str) -> Path:
        self.shown_dir.mkdir(parents=True, exist_ok=True)
        self._shown += 1
        path = self.shown_dir / f"figure-{self._shown}.png"
        path.write_bytes(base64.b64decode(encoded))
        return path

    def _reset_data(self) -> None:
        """An empty /mnt/data with only the thread's input files in it."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        self.data_dir.mkdir()
        self._own(self.data_dir)
        for name, source in self._inputs.items():
            self._copy_in(name, source)

    def _copy_in(self, name: str, source: Path) -> None:
        if not self.data_dir.is_dir():
            return  # copied at start
        target = self.data_dir / name
        shutil.copyfile(source, target)
        self._own(target)

    def _own(self, path: Path) -> None:
        """Hand ``path`` to the kernel's uid (only possible, and only needed, as root)."""
        if self._config.tools is not None and self._config.as_root:
            os.chown(path, self._config.uid, self._config.gid)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``root``, by relative name."""
    stamps: dict[str, tuple[int, int]] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                stat = os.lstat(path)
                stamps[os.path.relpath(path, root)] = (stat.st_size, stat.st_mtime_ns)
    return stamps
