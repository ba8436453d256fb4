"""The one app builder for both modes, and the two ways to run it.

`insightbot run` → Socket Mode (no public URL); `insightbot serve` → HTTP (`POST /slack/events`,
`GET /healthz`). Both build the same AsyncApp with the same listeners.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.ack_priority import AckPriority
from bot.bootstrap import open_services
from bot.config import Settings
from bot.engines.base import Engine
from bot.intake import Intake
from bot.lifecycle import Clock, RetentionSweeper
from bot.network import describe_network_error
from bot.recovery import recover_unfinished_turns
from bot.runner import TurnRunner
from bot.scheduler import Scheduler
from bot.services import Services
from handlers.http_guard import DEFAULT_LIMITS, HttpLimits, guard_middlewares
from handlers.listeners import register

log = logging.getLogger(__name__)


@dataclass
class RunningBot:
    app: AsyncApp
    services: Services
    runner: TurnRunner
    intake: Intake
    sweeper: RetentionSweeper
    scheduler: Scheduler
    # Socket Mode sets this: whether the websocket to Slack is open (for /readyz).
    slack_connected: Callable[[], Awaitable[bool]] | None = None


def build_app(*, intake: Intake, http_mode: bool, clock: Clock | None = None) -> AsyncApp:
    """The Bolt app with every listener registered. HTTP mode verifies Slack's signatures;
    ``clock`` is the schedule loop's (the system's by default)."""
    services = intake.services
    settings = services.settings
    signing_secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    with _without_token_skipped_warning():
        app = AsyncApp(
            client=services.slack.client,
            authorize=_single_flight_authorize(services),
            signing_secret=signing_secret,
            request_verification_enabled=http_mode,
            # setStatus and streaming are called by our gateway, not through listener arguments.
            attaching_conversation_kwargs_enabled=False,
        )
    register(app, intake=intake, clock=clock)
    return app


@contextmanager
def _without_token_skipped_warning() -> Iterator[None]:
    """Hide Bolt's "token will be ignored" warning: our ``authorize`` returns that same token,
    and operators read the warning as "my token is wrong"."""

    def not_token_skipped(record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage()

    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    bolt_logger.addFilter(not_token_skipped)
    try:
        yield
    finally:
        bolt_logger.removeFilter(not_token_skipped)


def _single_flight_authorize(services: Services) -> Callable[[], Awaitable[AuthorizeResult]]:
    """auth.test once for the process: Bolt's own single-team authorization caches only after
    the first call returns, so a burst at start would call auth.test once per event."""
    lock = asyncio.Lock()
    cached: list[AuthorizeResult] = []

    async def authorize() -> AuthorizeResult:
        async with lock:
            if not cached:
                auth = await services.slack.auth_check()
                cached.append(
                    AuthorizeResult(
                        enterprise_id=None,
                        team_id=auth.team_id,
                        bot_token=services.bot_token,
                        bot_id=auth.bot_id,
                        bot_user_id=auth.bot_user_id,
                    )
                )
        return cached[0]

    return authorize


@asynccontextmanager
async def running_bot(
    settings: Settings, *, http_mode: bool, engine: Engine | None = None, clock: Clock | None = None
) -> AsyncIterator[RunningBot]:
    """Open services, build the app, pick up unfinished turns, start the retention sweep and
    the schedule loop (on ``clock``, the system's by default); stop them and drain on exit."""
    async with open_services(settings, engine=engine) as services:
        acks = AckPriority()
        runner = TurnRunner(
            services=services,
            max_concurrent=settings.max_concurrent_runs,
            limit=services.run_limit,
            acks=acks,
        )
        intake = Intake(services=services, runner=runner, acks=acks)
        app = build_app(intake=intake, http_mode=http_mode, clock=clock)
        await recover_unfinished_turns(services=services, runner=runner)
        sweeper = RetentionSweeper(
            store=services.store, engine=services.engine, settings=settings, clock=clock
        )
        # Not a runner task: it never ends on its own, and a drain must not wait for it. A
        # sweep cut short here finishes on the next start.
        sweeping = asyncio.create_task(sweeper.run(), name="insightbot-retention")
        # Likewise: an occurrence is claimed before its run is posted, so a loop cut short
        # here never runs one twice.
        scheduler = Scheduler(intake=intake, clock=clock)
        scheduling = asyncio.create_task(scheduler.run(), name="insightbot-schedules")
        try:
            yield RunningBot(
                app=app,
                services=services,
                runner=runner,
                intake=intake,
                sweeper=sweeper,
                scheduler=scheduler,
            )
        finally:
            for task in (scheduling, sweeping):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await runner.drain(settings.drain_s)


EVENTS_PATH = "/slack/events"


def web_application(
    bot: RunningBot, *, events: bool = True, limits: HttpLimits = DEFAULT_LIMITS
) -> web.Application:
    """aiohttp app: POST /slack/events (events and interactivity) when ``events``, GET /healthz
    (the process and its database) and GET /readyz (also the connection to Slack).

    Socket Mode serves only the health check: its app verifies no signatures, so an events
    route there would take unsigned requests.
    """

    async def slack_events(request: web.Request) -> web.Response:
        if bot.runner.closing:
            return web.Response(status=503, text="shutting down")
        bolt_response = await bot.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def health() -> dict[str, bool]:
        database = await bot.services.store.ping()
        return {"ok": database and not bot.runner.closing, "database": database}

    async def healthz(_request: web.Request) -> web.Response:
        # Liveness: the process and its database. A Slack outage must not fail it, or a
        # supervisor would restart the bot in a loop while Slack is down.
        state = await health()
        return web.json_response(state, status=200 if state["ok"] else 503)

    async def readyz(_request: web.Request) -> web.Response:
        state = await health()
        slack = await bot.slack_connected() if bot.slack_connected else True
        state = {**state, "ok": state["ok"] and slack, "slack": slack}
        return web.json_response(state, status=200 if state["ok"] else 503)

    application = web.Application(
        middlewares=guard_middlewares(limits, signed_paths=frozenset({EVENTS_PATH}))
    )
    if events:
        application.router.add_post(EVENTS_PATH, slack_events)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    return application


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def start_site(
    application: web.Application, host: str, port: int, *, limits: HttpLimits = DEFAULT_LIMITS
) -> web.AppRunner:
    """Serve ``application`` on host:port; idle keep-alive connections close after a while."""
    app_runner = web.AppRunner(
        application, access_log=None, keepalive_timeout=limits.keepalive_timeout_s
    )
    await app_runner.setup()
    await web.TCPSite(app_runner, host, port).start()
    return app_runner


async def serve_http(settings: Settings, *, host: str, port: int) -> None:
    """Run in HTTP mode until SIGTERM/SIGINT, then drain."""
    settings.require("slack_bot_token", "slack_signing_secret", *settings.engine_requirements())
    async with running_bot(settings, http_mode=True) as bot:
        site = await start_site(web_application(bot), host, port)
        log.info("listening on http://%s:%s/slack/events", host, port)
        try:
            await _wait_for_signal()
        finally:
            await site.cleanup()


async def connect_socket_mode(
    bot: RunningBot,
    settings: Settings,
    *,
    first_pause_s: float = 1.0,
    longest_pause_s: float = 60.0,
) -> AsyncSocketModeHandler:
    """Open the Socket Mode connection (apps.connections.open on SLACK_API_URL, then the
    websocket it names); close it with ``close_async()``.

    Without network the attempt is repeated with growing pauses, one line each naming the
    host and the cause; a refused app token is not retried (SlackApiError passes through).
    """
    settings.require("slack_app_token")
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(
        bot.app,
        app_token=settings.slack_app_token.reveal(),
        web_client=bot.services.slack.client,
    )
    # The SDK's own connect loop retries every 10 s forever with a traceback each time; the
    # first connection is made reachable here first, with growing pauses and one line each.
    pause = first_pause_s
    while True:
        try:
            await handler.client.issue_new_wss_url()
            break
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            cause = describe_network_error(error, url=settings.slack_api_url)
            log.warning("cannot reach Slack: %s; trying again in %.0f s", cause, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest_pause_s)
    handler.client.logger.addFilter(_OneLineReconnects(settings.slack_api_url))
    await handler.connect_async()  # type: ignore[no-untyped-call]
    bot.slack_connected = handler.client.is_connected
    return handler


class _OneLineReconnects(logging.Filter):
    """Turns the SDK's "Failed to connect" traceback (every reconnect attempt while Slack is
    unreachable) into one line naming the host and the cause."""

    def __init__(self, api_url: str) -> None:
        super().__init__()
        self._api_url = api_url

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and str(record.msg).startswith("Failed to connect"):
            cause = describe_network_error(error, url=self._api_url)
            record.msg, record.args = (
                f"cannot reach Slack: {cause}; the connection is retried",
                None,
            )
            record.exc_info, record.exc_text, record.levelno = None, None, logging.WARNING
            record.levelname = "WARNING"
        return True


async def run_socket_mode(settings: Settings) -> None:
    """Run in Socket Mode until SIGTERM/SIGINT, then drain."""
    settings.require("slack_bot_token", "slack_app_token", *settings.engine_requirements())
    async with running_bot(settings, http_mode=False) as bot:
        health = None
        if settings.health_port:
            health = await start_site(
                web_application(bot, events=False), "0.0.0.0", settings.health_port
            )
        handler = await connect_socket_mode(bot, settings)
        log.info("connected to Slack in Socket Mode")
        try:
            await _wait_for_signal()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
            if health is not None:
                await health.cleanup()
