"""The one Slack Web API client the process shares (Bolt gets the same instance), and the
translation of its failures into our SlackProblem."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import partial

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import SlackProblem
from bot.network import describe_network_error

# chat.postMessage allows about one message per second per channel, so a busy thread meets
# 429s in bursts; waiting out Retry-After a few times beats failing the user's answer.
RATE_LIMIT_RETRIES = 5
CONNECTION_RETRIES = 2
SERVER_ERROR_RETRIES = 2


def build_web_client(
    *,
    token: str,
    base_url: str,
    timeout_s: int = 30,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """Return an AsyncWebClient for ``base_url`` that retries what can pass by itself.

    Retries: connection errors (twice), HTTP 429 (waiting ``Retry-After`` each time, up to
    RATE_LIMIT_RETRIES times) and HTTP 500/503 (twice). No I/O happens here. With
    ``session``, calls reuse its connections (without it the SDK opens one per call); the
    caller closes it.
    """
    return AsyncWebClient(
        token=token,
        session=session,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout_s,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )


# ---------------------------------------------------------------- error translation

# Slack error codes whose cause the user (or the bot's admin) can act on, and the words for it.
_WORDS_FOR_CODE: dict[str, messages.Words] = {
    "not_in_channel": messages.slack_not_in_channel,
    "channel_not_found": messages.slack_not_in_channel,
    "is_archived": messages.slack_channel_archived,
    "invalid_auth": messages.slack_token_refused,
    "not_authed": messages.slack_token_refused,
    "token_revoked": messages.slack_token_refused,
    "token_expired": messages.slack_token_refused,
    "account_inactive": messages.slack_token_refused,
    "ratelimited": messages.slack_rate_limited,
}


def error_code(exc: BaseException) -> str | None:
    """The Slack ``error`` string of a SlackApiError (e.g. ``not_in_channel``), else None."""
    if isinstance(exc, SlackApiError):
        code = exc.response.get("error")
        return str(code) if code else None
    return None


def problem_for(method: str, exc: BaseException) -> SlackProblem:
    """Translate an SDK or transport failure of ``method`` into our SlackProblem.

    The detail names the method and Slack's error code, never the token.
    """
    code = error_code(exc)
    if code is None:
        if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
            return SlackProblem(detail=f"{method}: {describe_network_error(exc)}")
        return SlackProblem(detail=f"{method}: {type(exc).__name__}")
    if code == "missing_scope":
        needed = exc.response.get("needed") if isinstance(exc, SlackApiError) else None
        scope = str(needed) if needed else None
        words = partial(messages.slack_missing_scope, scope=scope)
        return SlackProblem(words, detail=f"{method}: missing_scope {needed}")
    return SlackProblem(_WORDS_FOR_CODE.get(code), detail=f"{method}: {code}")


@contextmanager
def slack_errors(method: str, *, tolerate: Collection[str] = ()) -> Iterator[None]:
    """Raise SlackProblem (``from`` the original) for any Slack failure inside the block.

    Slack error codes in ``tolerate`` (e.g. ``already_reacted``) are swallowed.
    """
    try:
        yield
    except SlackApiError as exc:
        if error_code(exc) in tolerate:
            return
        raise problem_for(method, exc) from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise problem_for(method, exc) from exc
