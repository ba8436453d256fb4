"""Translate OpenAI SDK errors and failed responses into our error tree and Failed events
(worded by the catalogue in the turn, from their codes).

Only the engine modules import ``openai``; everything past them sees ``bot.errors`` types.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import openai

from bot.engines.failures import run_failure
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

    The detail (for logs) holds the server's message; the user's words never do, except
    for a refused request, whose reason the user may be able to act on (``server_words``).
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
        return EngineBadRequest(server_words=detail, **kwargs)
    if isinstance(err, openai.InternalServerError | openai.APIConnectionError):
        return EngineUnavailable(**kwargs)
    if isinstance(err, openai.APIStatusError) and err.status_code in (408, 409):
        return EngineUnavailable(**kwargs)
    return EngineError(**kwargs)


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

_RETRYABLE_RESPONSE_ERRORS = frozenset(
    {"server_error", "rate_limit_exceeded", "vector_store_timeout"}
)


def failed_response_event(
    *,
    code: str | None,
    message: str | None,
    partial_text: str = "",
    sequence: int | None = None,
) -> Failed:
    """Failed for a response that ended ``failed`` (or an ``error`` stream event)."""
    return run_failure(
        FailureCode.RESPONSE_FAILED,
        reason=code,
        detail=(message or "").strip() or None,
        retryable=code in _RETRYABLE_RESPONSE_ERRORS,
        partial_text=partial_text,
        sequence=sequence,
    )


def incomplete_response_event(
    *, reason: str | None, partial_text: str = "", sequence: int | None = None
) -> Failed:
    """Failed for a response that ended ``incomplete`` (``reason``: why, in the API's word)."""
    return run_failure(
        FailureCode.INCOMPLETE, reason=reason, partial_text=partial_text, sequence=sequence
    )


def cancelled_response_event(*, partial_text: str = "", sequence: int | None = None) -> Failed:
    return run_failure(FailureCode.CANCELLED, partial_text=partial_text, sequence=sequence)
