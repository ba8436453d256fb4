"""A process serving the app under test over HTTP on a free port of 127.0.0.1.

    python -m benchmarks.app_process bot    the real app (handlers.app.running_bot and
                                            web_application, as `insightbot serve` runs it)
    python -m benchmarks.app_process bare   a bare Bolt AsyncApp whose listeners only ack
    python -m benchmarks.app_process floor  plain aiohttp answering 200 (no Bolt): the floor
                                            of what the HTTP server and the load generator cost

Settings come from the environment, as for `insightbot serve`; logs go to stderr as JSON
lines. Once listening it prints one JSON line ``{"port": N}``. ``GET /_bench/idle`` answers
when the bot has finished every turn it started; ``GET /_bench/handled`` returns (and forgets)
how long each ``POST /slack/events`` took inside the server, from the handler's start to its
answer. It stops on SIGTERM or when stdin closes.
With ``BENCH_PROFILE=<path>`` the whole process runs under cProfile and writes stats there.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, load_settings
from bot.logs import configure_logging
from handlers.app import running_bot, web_application

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def only_ack_events(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200)


@asynccontextmanager
async def floor_application(_settings: Settings) -> AsyncIterator[web.Application]:
    application = web.Application()
    application.router.add_post("/slack/events", only_ack_events)
    application.router.add_get("/_bench/idle", lambda _r: _idle_now())
    yield application


async def _idle_now() -> web.Response:
    return web.json_response({"idle": True})


def timing_middleware(handled: list[float]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/slack/events":
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            handled.append(time.perf_counter() - started)

    return timed


@asynccontextmanager
async def bot_application(settings: Settings) -> AsyncIterator[web.Application]:
    async with running_bot(settings, http_mode=True) as bot:
        application = web_application(bot)

        async def idle(_request: web.Request) -> web.Response:
            await bot.runner.wait_idle()
            return web.json_response({"idle": True})

        application.router.add_get("/_bench/idle", idle)
        yield application


@asynccontextmanager
async def bare_application(settings: Settings) -> AsyncIterator[web.Application]:
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    client = AsyncWebClient(
        token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url
    )
    app = AsyncApp(client=client, signing_secret=settings.slack_signing_secret.reveal())

    async def only_ack() -> None:
        """Bolt has already acknowledged the event; nothing else happens."""

    app.event("app_mention")(only_ack)
    app.event("message")(only_ack)

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    application = web.Application()
    application.router.add_post("/slack/events", slack_events)
    application.router.add_get("/_bench/idle", lambda _r: _idle_now())
    yield application


async def serve(kind: str) -> None:
    settings = load_settings(os.environ, dotenv_path=None)
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def watch_stdin() -> None:
        await reader.read()  # returns at EOF: the driver went away
        stop.set()

    watcher = asyncio.create_task(watch_stdin())
    async with AsyncExitStack() as stack:
        opener = {"bot": bot_application, "bare": bare_application, "floor": floor_application}
        application = await stack.enter_async_context(opener[kind](settings))
        handled: list[float] = []
        application.middlewares.append(timing_middleware(handled))

        async def handled_times(_request: web.Request) -> web.Response:
            times = list(handled)
            handled.clear()
            return web.json_response({"seconds": times})

        application.router.add_get("/_bench/handled", handled_times)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        # The default backlog, as `insightbot serve` uses.
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(json.dumps({"port": port}), flush=True)
        await stop.wait()
    watcher.cancel()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "bot"
    if kind not in ("bot", "bare", "floor"):
        raise SystemExit("usage: python -m benchmarks.app_process bot|bare|floor")
    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        asyncio.run(serve(kind))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(serve(kind))
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


if __name__ == "__main__":
    main()
