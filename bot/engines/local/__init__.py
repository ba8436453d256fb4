"""The local engine's sandboxed Python: one Jupyter kernel per thread under bubblewrap.

Needs the ``local`` extra (``pip install -e '.[local]'``) and bubblewrap on PATH.
"""

from bot.engines.local.factory import kernel_config_for, max_kernels_for, pool_from_settings
from bot.engines.local.kernel import CellResult, Kernel, KernelConfig
from bot.engines.local.limits import KernelLimits, trimmed
from bot.engines.local.pool import KernelPool

__all__ = [
    "CellResult",
    "Kernel",
    "KernelConfig",
    "KernelLimits",
    "KernelPool",
    "kernel_config_for",
    "max_kernels_for",
    "pool_from_settings",
    "trimmed",
]
