"""`insightbot doctor` for the local engine: the font, the sandbox, a kernel running ``1+1``,
and the model server (answers, serves the model, calls tools). One line per check."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.assets import HANGUL_FONT
from bot.config import Settings
from bot.engines.local.chat import ChatModel
from bot.engines.local.conversation import PYTHON_TOOL
from bot.engines.local.factory import kernel_config_for
from bot.engines.local.kernel import KernelConfig
from bot.engines.local.pool import KernelPool
from bot.errors import ConfigError, EngineAuthError, EngineBadRequest, EngineError

_KERNEL_CHECK_S = 90.0


async def check_local_engine(settings: Settings, say: Callable[[str], None]) -> bool:
    """Print one line per check; True when the local engine can answer questions."""
    healthy = True
    if HANGUL_FONT.is_file():
        say(f"ok    local engine: Hangul font found ({HANGUL_FONT.name})")
    else:
        say(f"FAIL  local engine: the Hangul font {HANGUL_FONT} is missing; reinstall insightbot")
        healthy = False
    config = await _check_sandbox(settings, say)
    healthy = await _check_kernel(config, say) and healthy if config else False
    return await _check_model(settings, say) and healthy


async def _check_sandbox(settings: Settings, say: Callable[[str], None]) -> KernelConfig | None:
    try:
        config = await asyncio.to_thread(kernel_config_for, settings)
    except ConfigError as error:
        say(f"FAIL  local engine: {error.user_message}")
        return None
    if config.tools is None:
        say("WARN  local engine: INSIGHTBOT_LOCAL_SANDBOX=none: analysis code runs unconfined")
    else:
        say(f"ok    local engine: bubblewrap builds the sandbox (kernels run as uid {config.uid})")
    return config


async def _check_kernel(config: KernelConfig, say: Callable[[str], None]) -> bool:
    root = Path(tempfile.mkdtemp(prefix="insightbot-doctor-"))
    pool = KernelPool(root=root, config=config, max_kernels=1, idle_s=60.0)
    try:
        result = await asyncio.wait_for(pool.execute("doctor", "1+1"), _KERNEL_CHECK_S)
    except (RuntimeError, TimeoutError) as error:
        say(f"FAIL  local engine: a Python kernel did not start: {error}")
        return False
    finally:
        await pool.aclose()
        shutil.rmtree(root, ignore_errors=True)
    if result.value != "2":
        say(f"FAIL  local engine: a kernel ran 1+1 and got {result.value or result.error!r}")
        return False
    say("ok    local engine: a sandboxed kernel starts and runs 1+1")
    return True


async def _check_model(settings: Settings, say: Callable[[str], None]) -> bool:
    if not settings.local_model:
        say("FAIL  INSIGHTBOT_LOCAL_MODEL is not set (a model with tool calling)")
        return False
    model = ChatModel(settings)
    where = f"model {settings.local_model} at {settings.local_base_url}"
    try:
        listed = await model.models()
        if settings.local_model not in listed:
            say(f"WARN  local model server does not list {settings.local_model}: {listed[:10]}")
        probe = await model.probe([PYTHON_TOOL])
    except EngineAuthError:
        say(f"FAIL  local model server refused the key ({where}). Check INSIGHTBOT_LOCAL_API_KEY.")
        return False
    except EngineBadRequest as error:
        say(
            f"FAIL  local model server refused a request with tools ({where}): "
            f"{error.detail or error.user_message}. Use a model and server with tool calling."
        )
        return False
    except EngineError as error:
        say(
            f"FAIL  cannot reach the local model server ({where}): "
            f"{error.detail or error.user_message}. Check INSIGHTBOT_LOCAL_BASE_URL."
        )
        return False
    finally:
        await model.aclose()
    if probe.called_tool:
        say(f"ok    local model server: {where} answers and calls tools")
    else:
        say(f"WARN  local model server: {where} accepts tools but did not call one when asked")
    return True
