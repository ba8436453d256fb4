"""Code-interpreter engines. ``Engine`` is the interface the turn and `insightbot ask` use."""

from bot.engines.base import Engine

__all__ = ["Engine"]
