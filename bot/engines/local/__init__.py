"""The local engine: any OpenAI-compatible Chat Completions model with one ``python`` tool,
and one sandboxed Jupyter kernel per thread under bubblewrap.

Needs the ``local`` extra (``pip install -e '.[local]'``) and bubblewrap on PATH. ``engine``
is the ``Engine`` implementation, ``run`` the tool-calling loop, ``conversation`` its pure
parts, ``chat`` the only module speaking to the model server; ``kernel``, ``pool``,
``sandbox``, ``limits`` and ``procs`` run the code; ``checks`` serves ``insightbot doctor``.
"""

from bot.engines.local.checks import check_local_engine
from bot.engines.local.engine import LocalEngine, MemoryHistory
from bot.engines.local.factory import (
    kernel_config_for,
    max_kernels_for,
    open_local_engine,
    pool_from_settings,
)
from bot.engines.local.kernel import CellResult, Kernel, KernelConfig
from bot.engines.local.limits import KernelLimits, trimmed
from bot.engines.local.pool import KernelPool

__all__ = [
    "CellResult",
    "Kernel",
    "KernelConfig",
    "KernelLimits",
    "KernelPool",
    "LocalEngine",
    "MemoryHistory",
    "check_local_engine",
    "kernel_config_for",
    "max_kernels_for",
    "open_local_engine",
    "pool_from_settings",
    "trimmed",
]
