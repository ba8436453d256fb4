"""What a client can hold on the HTTP server: bounded body reads, requests in flight, idle
connections, and malformed signature headers refused before Bolt sees them.

aiohttp bounds neither how long a body may take to arrive nor how many requests run at once,
so a few slow or flooding clients could otherwise hold the bot. Slow *headers* cannot be bounded
from inside aiohttp: a public ``serve`` belongs behind a reverse proxy (README, Security).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = ["DEFAULT_LIMITS", "HttpLimits", "guard_middlewares", "signature_headers_ok"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Payloads of events and button clicks are a few KB; Slack documents no larger ones.
_CLIENT_GONE = (
    ConnectionResetError,
    aiohttp.ClientConnectionResetError,
    aiohttp.ClientPayloadError,
)


@dataclass(frozen=True)
class HttpLimits:
    """Bounds for the HTTP server; the defaults suit Slack's traffic to one bot."""

    body_timeout_s: float = 10.0
    max_in_flight: int = 1024  # a burst of 500 messages (each delivered twice) still gets in
    keepalive_timeout_s: float = 15.0


DEFAULT_LIMITS = HttpLimits()


def signature_headers_ok(timestamp: str | None, signature: str | None) -> bool:
    """Whether Slack's signature headers are well formed (checking them is Bolt's job)."""
    return bool(
        timestamp
        and signature
        and _TIMESTAMP.fullmatch(timestamp)
        and _SIGNATURE.fullmatch(signature)
    )


def guard_middlewares(limits: HttpLimits, *, signed_paths: frozenset[str]) -> list[Middleware]:
    """The aiohttp middlewares, outermost first: requests in flight, then the body read."""
    in_flight = 0

    @web.middleware
    async def limit_in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        if request.method == "GET":  # health checks are cheap and must answer under load
            return await handler(request)
        if in_flight >= limits.max_in_flight:
            log.warning("more than %d requests in flight; answering 503", limits.max_in_flight)
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        in_flight += 1
        try:
            return await handler(request)
        finally:
            in_flight -= 1

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        if request.path in signed_paths and not signature_headers_ok(
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        ):
            return web.Response(status=401, text="invalid signature headers")
        try:
            # Read once here: later reads (Bolt's adapter) get the cached body.
            await asyncio.wait_for(request.read(), limits.body_timeout_s)
        except TimeoutError:
            log.info("a client sent its request body too slowly; answering 408")
            return web.Response(status=408, text="request body too slow")
        except _CLIENT_GONE as exc:
            log.info("a client closed the connection before its request arrived (%s)", exc)
            return web.Response(status=400, text="incomplete request")
        return await handler(request)

    return [limit_in_flight, read_body_in_time]
