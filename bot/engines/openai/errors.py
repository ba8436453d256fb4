"""Translate OpenAI SDK errors and failed responses into our error tree and user-facing text.

Only the engine modules import ``openai``; everything past them sees ``bot.errors`` types.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import openai

from bot.errors import (
    ContainerExpired,
    EngineAuthError,
    EngineBadRequest,
    EngineError,
    EngineQuotaExhausted,
    EngineRateLimited,
    EngineUnavailable,
)
from bot.network import describe_network_error
from bot.types import Failed, FailureCode


def error_message_of(err: openai.APIError) -> str:
    """The server's own message (``error.message`` of the body), else the SDK's text."""
    body = err.body
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
    return err.message


def is_insufficient_quota(err: openai.APIError) -> bool:
    body = err.body
    body_type = body.get("type") if isinstance(body, Mapping) else None
    return "insufficient_quota" in (err.code, body_type)


def is_expired_message(text: str) -> bool:
    return "expired" in text.lower()


def request_id_of(err: BaseException) -> str | None:
    return err.request_id if isinstance(err, openai.APIStatusError) else None


def engine_error_from(err: openai.OpenAIError) -> EngineError:
    """Our EngineError for an SDK error, keeping the request id for the logs.

    The detail (for logs) holds the server's message; the user message never does, except
    for a refused request, whose reason the user may be able to act on.
    """
    request_id = request_id_of(err)
    detail = error_message_of(err) if isinstance(err, openai.APIError) else str(err)
    if isinstance(err, openai.APIConnectionError):
        # For the operator: which host, and whether DNS, a refusal, TLS or a timeout.
        detail = describe_network_error(err, url=str(err.request.url))
    kwargs = {"detail": detail, "request_id": request_id}
    if isinstance(err, openai.RateLimitError):
        if is_insufficient_quota(err):
            return EngineQuotaExhausted(**kwargs)
        return EngineRateLimited(**kwargs)
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return EngineAuthError(**kwargs)
    if isinstance(
        err,
        openai.BadRequestError | openai.NotFoundError | openai.UnprocessableEntityError,
    ):
        if is_expired_message(detail):
            return ContainerExpired(**kwargs)
        return EngineBadRequest(f"The analysis engine refused the request: {detail}", **kwargs)
    if isinstance(err, openai.InternalServerError | openai.APIConnectionError):
        return EngineUnavailable(**kwargs)
    if isinstance(err, openai.APIStatusError) and err.status_code in (408, 409):
        return EngineUnavailable(**kwargs)
    return EngineError(**kwargs)


def failed_from_error(
    err: EngineError,
    *,
    code: FailureCode | None = None,
    partial_text: str = "",
    sequence: int | None = None,
) -> Failed:
    """The final Failed event for an EngineError raised inside a run."""
    return Failed(
        message=err.user_message,
        code=code or _error_code(err),
        retryable=err.retryable,
        partial_text=partial_text,
        sequence=sequence,
    )


def _error_code(err: EngineError) -> FailureCode:
    names = {
        EngineRateLimited: FailureCode.RATE_LIMITED,
        EngineQuotaExhausted: FailureCode.INSUFFICIENT_QUOTA,
        EngineAuthError: FailureCode.AUTH,
        EngineBadRequest: FailureCode.BAD_REQUEST,
        EngineUnavailable: FailureCode.UNAVAILABLE,
        ContainerExpired: FailureCode.CONTAINER_EXPIRED,
    }
    return names.get(type(err), FailureCode.ENGINE_ERROR)


def retry_after_seconds(err: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` / ``retry-after``), if any."""
    headers = err.response.headers
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)


# --------------------------------------------------------------- failed/incomplete responses

_RESPONSE_ERRORS = {
    "server_error": "The analysis engine had an internal error",
    "rate_limit_exceeded": "The analysis engine is over its rate limit",
    "invalid_prompt": "The analysis engine refused the question",
    "vector_store_timeout": "The analysis engine timed out",
}
_RETRYABLE_RESPONSE_ERRORS = frozenset(
    {"server_error", "rate_limit_exceeded", "vector_store_timeout"}
)

_INCOMPLETE = {
    "max_output_tokens": (
        "The answer got too long and was cut off. Try asking for less at once, for example "
        "one chart or one table per question."
    ),
    "content_filter": "The answer was stopped by the engine's content filter.",
    "max_messages": "The analysis took too many steps and was stopped. Try a narrower question.",
}


def failed_response_event(
    *,
    code: str | None,
    message: str | None,
    partial_text: str = "",
    sequence: int | None = None,
) -> Failed:
    """Failed for a response that ended ``failed`` (or an ``error`` stream event)."""
    lead = _RESPONSE_ERRORS.get(code or "", "The analysis failed")
    detail = (message or "").strip()
    text = f"{lead}: {detail}" if detail else f"{lead}."
    if code in _RETRYABLE_RESPONSE_ERRORS:
        text += " Please try again in a moment."
    return Failed(
        message=text,
        code=FailureCode.RESPONSE_FAILED,
        retryable=code in _RETRYABLE_RESPONSE_ERRORS,
        partial_text=partial_text,
        sequence=sequence,
        reason=code,
    )


def incomplete_response_event(
    *, reason: str | None, partial_text: str = "", sequence: int | None = None
) -> Failed:
    """Failed for a response that ended ``incomplete``, saying why in words."""
    text = _INCOMPLETE.get(
        reason or "", f"The analysis stopped early ({reason or 'unknown reason'})."
    )
    return Failed(
        message=text,
        code=FailureCode.INCOMPLETE,
        retryable=False,
        partial_text=partial_text,
        sequence=sequence,
        reason=reason,
    )


def cancelled_response_event(*, partial_text: str = "", sequence: int | None = None) -> Failed:
    return Failed(
        message="The analysis was stopped before it finished.",
        code=FailureCode.CANCELLED,
        retryable=False,
        partial_text=partial_text,
        sequence=sequence,
    )
