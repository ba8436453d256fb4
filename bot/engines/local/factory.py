"""Settings → a ready kernel pool, refusing to start when the sandbox cannot work."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path

from bot.assets import HANGUL_FONT
from bot.config import Settings
from bot.engines.local.chat import ChatModel
from bot.engines.local.engine import LocalEngine
from bot.engines.local.kernel import KernelConfig
from bot.engines.local.limits import (
    PROCESSES_PER_KERNEL,
    KernelLimits,
    default_max_kernels,
    machine_memory_bytes,
)
from bot.engines.local.pool import KernelPool
from bot.engines.local.run import HistoryBook
from bot.engines.local.sandbox import SandboxSpec, find_tools, probe_sandbox, python_paths
from bot.engines.objects import Inventory
from bot.errors import ConfigError, EngineBadRequest

log = logging.getLogger(__name__)


def max_kernels_for(settings: Settings) -> int:
    if settings.local_max_kernels is not None:
        return settings.local_max_kernels
    return default_max_kernels(
        memory_bytes=settings.local_memory_bytes, machine_bytes=machine_memory_bytes()
    )


def kernel_config_for(settings: Settings) -> KernelConfig:
    """The kernels' limits and sandbox from ``settings``.

    Raises ConfigError (one line) when bubblewrap is missing or cannot create its namespaces,
    unless INSIGHTBOT_LOCAL_SANDBOX=none (then a warning is logged).
    """
    kernels = max_kernels_for(settings)
    limits = KernelLimits(
        cell_timeout_s=settings.local_cell_timeout_s,
        memory_bytes=settings.local_memory_bytes,
        # RLIMIT_NPROC counts every kernel's processes and threads under the one uid.
        processes=PROCESSES_PER_KERNEL * kernels,
        file_bytes=settings.local_disk_bytes,
        disk_bytes=settings.local_disk_bytes,
    )
    as_root = os.geteuid() == 0
    uid, gid = (settings.local_uid, settings.local_uid) if as_root else (os.getuid(), os.getgid())
    if settings.local_sandbox == "none":
        log.warning("INSIGHTBOT_LOCAL_SANDBOX=none: analysis code will run unconfined")
        return KernelConfig(
            limits=limits, uid=uid, gid=gid, tools=None, as_root=as_root, font=HANGUL_FONT
        )
    tools = find_tools()
    with tempfile.TemporaryDirectory(prefix="ibk-probe-") as scratch:
        probe = Path(scratch)
        if as_root:
            os.chown(probe, uid, gid)
        spec = SandboxSpec(
            data_dir=probe,
            ipc_dir=probe,
            readable=python_paths(),
            font=HANGUL_FONT,
            uid=uid,
            gid=gid,
            limits=limits,
        )
        probe_sandbox(spec, tools=tools, as_root=as_root)
    return KernelConfig(
        limits=limits, uid=uid, gid=gid, tools=tools, as_root=as_root, font=HANGUL_FONT
    )


def pool_from_settings(settings: Settings, *, root: Path) -> KernelPool:
    """A kernel pool keeping each thread's files under ``root``; see ``kernel_config_for``."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return KernelPool(
        root=root,
        config=kernel_config_for(settings),
        max_kernels=max_kernels_for(settings),
        idle_s=settings.local_idle_s,
    )


def local_root_for(settings: Settings) -> Path:
    """Where the local engine keeps file copies and kernels: next to the database."""
    return settings.db_path.parent / f"{settings.db_path.stem}-local"


async def open_local_engine(
    settings: Settings, *, history: HistoryBook, inventory: Inventory | None = None
) -> LocalEngine:
    """The local engine, ready: the sandbox works and the model server accepts tools.

    Raises ConfigError (one line) when a setting is missing, the sandbox cannot be built, or
    the model server refuses tool calling. A server that does not answer yet is only logged.
    """
    settings.require("local_model")
    root = local_root_for(settings)
    pool = await asyncio.to_thread(pool_from_settings, settings, root=root / "kernels")
    engine = LocalEngine(
        settings=settings,
        model=ChatModel(settings),
        pool=pool,
        files_dir=root / "files",
        history=history,
        inventory=inventory,
    )
    try:
        await engine.check_tools()
    except EngineBadRequest as error:
        await engine.aclose()
        raise ConfigError(
            f"The model server at {settings.local_base_url} refused tool calling with "
            f"INSIGHTBOT_LOCAL_MODEL={settings.local_model} ({error.detail or error.user_message}): "
            "the local engine needs a model and server with tool calling (for vLLM, start it "
            "with --enable-auto-tool-choice and a --tool-call-parser)."
        ) from error
    pool.start()
    return engine
