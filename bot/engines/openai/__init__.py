"""The default engine: OpenAI's Responses API with conversations, explicit containers and the
code_interpreter tool.

``engine`` is the ``Engine`` implementation; ``run`` creates a response, ``follow`` and
``stream`` turn its background stream into our events, ``sandbox`` keeps the thread's
container alive with its files, ``uploads`` streams files in, ``artifacts`` and
``container_files`` bring generated files out, ``errors`` translates SDK errors. Only this
package imports the openai SDK for it.
"""

from bot.engines.openai.engine import OpenAIEngine, Timing, build_engine
from bot.engines.openai.errors import engine_error_from

# engine_error_from also serves the local engine, whose model server speaks the same API.
__all__ = ["OpenAIEngine", "Timing", "build_engine", "engine_error_from"]
