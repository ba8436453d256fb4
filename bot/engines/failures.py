"""How an engine reports a run that ended without an answer: a ``Failed`` event carrying the
failure as data (code, the engine's finer reason, the server's own words). The turn words it
in the asker's language; ``message`` keeps the English words for logs."""

from __future__ import annotations

from bot import messages
from bot.errors import EngineError
from bot.types import Failed, FailureCode


def run_failure(
    code: FailureCode,
    *,
    reason: str | None = None,
    detail: str | None = None,
    retryable: bool = False,
    partial_text: str = "",
    sequence: int | None = None,
) -> Failed:
    """The Failed event for ``code`` (see ``messages.run_failed`` for ``reason``/``detail``)."""
    return Failed(
        message=messages.run_failed("en", code, reason, detail),
        code=code,
        retryable=retryable,
        partial_text=partial_text,
        sequence=sequence,
        reason=reason,
        detail=detail,
    )


def failure_from_error(
    err: EngineError, *, partial_text: str = "", sequence: int | None = None
) -> Failed:
    """The final Failed event for an EngineError raised inside a run."""
    return run_failure(
        err.failure_code,
        detail=err.server_words,
        retryable=err.retryable,
        partial_text=partial_text,
        sequence=sequence,
    )
